package analytics_test

import (
	"encoding/json"
	"strings"
	"testing"

	analytics "github.com/codestory/analytics"
)

func TestMoneyJSON(t *testing.T) {
	for _, tc := range []struct {
		micros       int64
		cents, dolls string
	}{
		{0, "0", "0"},
		{1, "0.0001", "0.000001"},
		{10_000, "1", "0.01"},
		{123_456_789, "12345.6789", "123.456789"},
		{-2_500, "-0.25", "-0.0025"},
		{9_223_372_036_854_775_807, "922337203685477.5807", "9223372036854.775807"},
	} {
		c, _ := json.Marshal(analytics.Cents(tc.micros))
		d, _ := json.Marshal(analytics.Dollars(tc.micros))
		if string(c) != tc.cents || string(d) != tc.dolls {
			t.Errorf("%d µ$: cents %s dollars %s; want %s %s", tc.micros, c, d, tc.cents, tc.dolls)
		}
		var back analytics.Cents
		if err := json.Unmarshal(c, &back); err != nil || int64(back) != tc.micros {
			t.Errorf("round trip of %s: %d, %v", c, back, err)
		}
	}
}

func TestParseScaled(t *testing.T) {
	for _, tc := range []struct {
		in    string
		scale int
		want  int64
		ok    bool
	}{
		{"1.2345", 4, 12345, true}, {"007", 2, 700, true}, {"1.50", 1, 15, true}, {"-0.5", 1, -5, true},
		{"1.23456", 4, 0, false}, {"1e3", 3, 0, false}, {".5", 1, 0, false}, {"5.", 1, 0, false},
		{"", 1, 0, false}, {"1,5", 1, 0, false}, {"99999999999999999999", 0, 0, false}, {"+1", 0, 0, false},
	} {
		got, err := analytics.ParseScaled(tc.in, tc.scale)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseScaled(%q, %d) = %d, %v; want %d ok=%v", tc.in, tc.scale, got, err, tc.want, tc.ok)
		}
	}
}

func TestEscapeCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=SUM(A1)": "'=SUM(A1)", "+1+2": "'+1+2", "@cmd": "'@cmd", "-2+3": "'-2+3", "\tx": "'\tx",
		"-12.5": "-12.5", "12": "12", "": "", "a=b": "a=b",
	} {
		if got := analytics.EscapeCSVCell(in); got != want {
			t.Errorf("EscapeCSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzEscapeCSVCell(f *testing.F) {
	f.Add("=1+1")
	f.Add("-5")
	f.Fuzz(func(t *testing.T, s string) {
		out := analytics.EscapeCSVCell(s)
		if out != "" && (out[0] == '=' || out[0] == '+' || out[0] == '@' || out[0] == '\t' || out[0] == '\r') {
			t.Fatalf("%q escaped to %q, still a formula", s, out)
		}
		if out != "" && out[0] == '-' && strings.ContainsAny(out, "+-*/=()@ \t\"'") && strings.Count(out, "-") > 1 {
			t.Fatalf("%q escaped to %q: a leading minus that is not a plain number", s, out)
		}
	})
}

func FuzzParseDay(f *testing.F) {
	f.Add("2024-02-29")
	f.Add("2023-02-29")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := analytics.ParseDay(s)
		if err != nil {
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDay(%q) = %s: not a round trip", s, d)
		}
	})
}
