package quorum

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// faultSeedsEnv names the environment variable that replaces the fixed seed
// lists of the randomized fault tests (TestAtomicRandomFaults,
// TestAtomicRandomFaultsPruned, TestLinearizable*UnderFaults), so that a sweep
// over many more seeds than CI runs needs no edit: LSS_FAULT_SEEDS=4,9,20-40.
const faultSeedsEnv = "LSS_FAULT_SEEDS"

// maxFaultSeeds bounds one list: a typo such as 1-10000000 fails at once
// instead of queueing runs for weeks.
const maxFaultSeeds = 100000

// faultSeeds returns the seeds a randomized fault test runs: those listed in
// $LSS_FAULT_SEEDS, or defaults (the test's own list) when it is unset or
// empty. A bad value fails the test rather than silently running nothing.
func faultSeeds(t testing.TB, defaults ...uint64) []uint64 {
	t.Helper()
	seeds, err := seedsFromEnv(defaults)
	if err != nil {
		t.Fatal(err)
	}
	return seeds
}

// seedsFromEnv is faultSeeds without the test: its error names the variable,
// its value and the bad part.
func seedsFromEnv(defaults []uint64) ([]uint64, error) {
	v := strings.TrimSpace(os.Getenv(faultSeedsEnv))
	if v == "" {
		return defaults, nil
	}
	seeds, err := parseSeeds(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", faultSeedsEnv, v, err)
	}
	return seeds, nil
}

// parseSeeds parses a comma-separated list of seeds and inclusive ranges of
// seeds, "4,9,20-40", into the seeds in the order given, each once (a seed
// listed twice would only run twice under a "#01" name).
func parseSeeds(s string) ([]uint64, error) {
	var seeds []uint64
	seen := map[uint64]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, err := parseSeedPart(part)
		if err != nil {
			return nil, err
		}
		if hi-lo >= maxFaultSeeds || len(seeds)+int(hi-lo) >= maxFaultSeeds {
			return nil, fmt.Errorf("%q: more than %d seeds in all", part, maxFaultSeeds)
		}
		for seed := lo; ; seed++ {
			if !seen[seed] {
				seen[seed] = true
				seeds = append(seeds, seed)
			}
			if seed == hi {
				break
			}
		}
	}
	return seeds, nil
}

// parseSeedPart parses one part of a seed list, "N" or "A-B" with A <= B.
func parseSeedPart(part string) (lo, hi uint64, err error) {
	bad := func(why string) (uint64, uint64, error) {
		return 0, 0, fmt.Errorf("%q: %s (want a seed N or a range A-B of non-negative integers, as in \"4,9,20-40\")", part, why)
	}
	if part == "" {
		return bad("empty part")
	}
	from, to, isRange := strings.Cut(part, "-")
	lo, err = strconv.ParseUint(strings.TrimSpace(from), 10, 64)
	if err != nil {
		return bad("not a seed")
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err = strconv.ParseUint(strings.TrimSpace(to), 10, 64)
	if err != nil {
		return bad("not a range of seeds")
	}
	if hi < lo {
		return bad("range ends before it starts")
	}
	return lo, hi, nil
}

func TestParseSeeds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint64
	}{
		{"7", []uint64{7}},
		{"0", []uint64{0}},
		{"4,9,20-23", []uint64{4, 9, 20, 21, 22, 23}},
		{" 3 , 1-2 ", []uint64{3, 1, 2}},
		{"5-5", []uint64{5}},
		{"1-3,2,3-4", []uint64{1, 2, 3, 4}},
		{"18446744073709551614-18446744073709551615", []uint64{1<<64 - 2, 1<<64 - 1}},
	} {
		got, err := parseSeeds(tc.in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("parseSeeds(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, bad string }{
		{"x", `"x": not a seed`},
		{"4,,9", `"": empty part`},
		{"4,", `"": empty part`},
		{"-3", `"-3": not a seed`},
		{"3-", `"3-": not a range`},
		{"1-2-3", `"1-2-3": not a range`},
		{"4,40-20", `"40-20": range ends before it starts`},
		{"1.5", `"1.5": not a seed`},
		{"18446744073709551616", `"18446744073709551616": not a seed`},
		{"0-100000", `"0-100000": more than 100000 seeds`},
		{"0-60000,60001-120000", `"60001-120000": more than 100000 seeds`},
	} {
		got, err := parseSeeds(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("parseSeeds(%q) = %v, %v; want an error naming %s", tc.in, got, err, tc.bad)
		}
	}
}

func TestFaultSeedsEnv(t *testing.T) {
	defaults := []uint64{1, 2, 3}
	for _, v := range []string{"", "  "} {
		t.Setenv(faultSeedsEnv, v)
		if got, err := seedsFromEnv(defaults); err != nil || fmt.Sprint(got) != fmt.Sprint(defaults) {
			t.Errorf("%s=%q: got %v, %v; want the defaults %v", faultSeedsEnv, v, got, err, defaults)
		}
	}
	t.Setenv(faultSeedsEnv, "8,10-11")
	if got := faultSeeds(t, defaults...); fmt.Sprint(got) != "[8 10 11]" {
		t.Errorf("%s=8,10-11: got %v", faultSeedsEnv, got)
	}
	t.Setenv(faultSeedsEnv, "4,nine")
	_, err := seedsFromEnv(defaults)
	if err == nil || !strings.Contains(err.Error(), faultSeedsEnv) || !strings.Contains(err.Error(), `"nine"`) {
		t.Errorf("%s=4,nine: error %v does not name the variable and the bad part", faultSeedsEnv, err)
	}
}
