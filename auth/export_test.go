package auth

import "time"

// HoldPasswordSlots takes every password-check slot until release is called
// (tests of a server busy with other logins).
func HoldPasswordSlots() (release func()) {
	n := cap(passwordSlots)
	for i := 0; i < n; i++ {
		passwordSlots <- struct{}{}
	}
	return func() {
		for i := 0; i < n; i++ {
			<-passwordSlots
		}
	}
}

// SetPasswordWait changes how long a login waits for a slot.
func SetPasswordWait(d time.Duration) (restore func()) {
	old := passwordWait
	passwordWait = d
	return func() { passwordWait = old }
}
