package metrics

import "testing"

func TestReason(t *testing.T) {
	for in, want := range map[string]string{
		`unknown service "openai" (expected anthropic, elevenlabs or s3)`: "unknown service X",
		`input_tokens must not be negative (got -5)`:                      "input_tokens must not be negative",
		`id is longer than 128 bytes`:                                     "id is longer than N bytes",
		`field "output_tokens" must be an integer, got number`:            "field X must be an integer, got number",
	} {
		if got := Reason(in); got != want {
			t.Errorf("Reason(%q) = %q, want %q", in, got, want)
		}
	}
}
