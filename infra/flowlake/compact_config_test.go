package flowlake_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowlake/flowlake/infra/flowlake"
	"github.com/flowlake/flowlake/shared/schedule"
)

// TestDetectTiming: the scheduled detector's window, as config.go reasons
// about it, is the one the detect function uses (the stack sets neither
// DETECT_LOOKBACK nor DETECT_LAG, so the defaults apply).
func TestDetectTiming(t *testing.T) {
	c, err := schedule.ConfigFromEnv(func(k string) string {
		return map[string]string{schedule.EnvWorkgroup: "w", schedule.EnvDatabase: "d"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Lookback != flowlake.DetectLookback || c.Lag != flowlake.DetectLag {
		t.Errorf("the detector's defaults are lookback %s, lag %s; config.go reasons with %s, %s", c.Lookback, c.Lag,
			flowlake.DetectLookback, flowlake.DetectLag)
	}
}

// TestCompactNeverTouchesDetectorHours simulates, minute by minute over two
// days, every scheduled detector run (any schedule minute, each run delayed
// up to the EventBridge and Lambda event ages and running its whole
// timeout) against a compactor run starting at any minute and running as
// long: whenever both may run at once, every hour the compactor rewrites
// ended before the first hour the detector reads. It checks the minimum
// age CompactMinAge derives, and the least CompactMinAgeHours Validate
// accepts.
func TestCompactNeverTouchesDetectorHours(t *testing.T) {
	const detectRun = 2*flowlake.ScheduleMaxDelay + 10*time.Minute  // the detect function's timeout
	const compactRun = 2*flowlake.ScheduleMaxDelay + 15*time.Minute // the compact function's
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	overlap := func(detectMinutes []int, minAge time.Duration) string {
		type run struct {
			from, to  time.Time // may be running
			hoursFrom time.Time // the first hour read
		}
		var detects []run
		for h := 0; h < 48; h++ {
			for _, m := range detectMinutes {
				e := base.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				until := e.Add(-flowlake.DetectLag).Truncate(time.Hour)
				detects = append(detects, run{e, e.Add(detectRun), until.Add(-flowlake.DetectLookback)})
			}
		}
		for x := base.Add(6 * time.Hour); x.Before(base.Add(42 * time.Hour)); x = x.Add(time.Minute) {
			// The compactor rewrites hours that ended at or before x - minAge.
			newestEnd := x.Add(-minAge).Truncate(time.Hour)
			for _, d := range detects {
				if d.to.Before(x) || d.from.After(x.Add(compactRun)) {
					continue
				}
				if newestEnd.After(d.hoursFrom) {
					return fmt.Sprintf("min age %s: a compactor run at %s may rewrite the hour ending %s while the detector run of %s reads from %s",
						minAge, x.Format("15:04"), newestEnd.Format("15:04"), d.from.Format("15:04"), d.hoursFrom.Format("15:04"))
				}
			}
		}
		return ""
	}
	check := func(t *testing.T, detectMinutes []int, minAge time.Duration) {
		t.Helper()
		if o := overlap(detectMinutes, minAge); o != "" {
			t.Fatal(o)
		}
	}
	// The simulation can fail: an hour less than the default is unsafe.
	if overlap([]int{20}, 2*time.Hour) == "" {
		t.Fatal("the simulation finds no overlap at 2 h with cron(20 * * * ? *)")
	}
	for _, m := range []int{0, 5, 14, 15, 20, 40, 59} {
		sched := fmt.Sprintf("cron(%d * * * ? *)", m)
		t.Run(sched, func(t *testing.T) {
			c := validConfig(t, map[string]any{flowlake.CtxDetectSchedule: sched})
			check(t, []int{m}, c.CompactMinAge())
			// The least whole number of hours Validate accepts is safe; one less
			// is refused.
			least := 0
			for h := 1; h <= 12; h++ {
				if err := withMinAge(c, h).Validate(); err == nil {
					least = h
					break
				} else if !strings.Contains(err.Error(), flowlake.CtxCompactMinAgeHours) {
					t.Fatalf("Validate(%d h) = %v; want it to name %s", h, err, flowlake.CtxCompactMinAgeHours)
				}
			}
			if least == 0 {
				t.Fatal("Validate accepts no minimum age up to 12 h")
			}
			check(t, []int{m}, time.Duration(least)*time.Hour)
			if least > 1 && c.CompactMinAge() < time.Duration(least)*time.Hour {
				t.Errorf("CompactMinAge = %s; below the least Validate accepts, %d h", c.CompactMinAge(), least)
			}
		})
	}
	// Any other schedule: the detector may fire at any minute.
	t.Run("rate", func(t *testing.T) {
		c := validConfig(t, map[string]any{flowlake.CtxDetectSchedule: "rate(30 minutes)"})
		every := make([]int, 60)
		for i := range every {
			every[i] = i
		}
		check(t, every, c.CompactMinAge())
	})
	if got := flowlake.Defaults().CompactMinAge(); got != 3*time.Hour {
		t.Errorf("default CompactMinAge = %s; want the issue's 3h", got)
	}
}

func withMinAge(c flowlake.Config, h int) flowlake.Config {
	c.CompactMinAgeHours = h
	return c
}

func validConfig(t *testing.T, kv map[string]any) flowlake.Config {
	t.Helper()
	all := map[string]any{flowlake.CtxVPCs: "vpc-89abcdef"}
	for k, v := range kv {
		all[k] = v
	}
	c, err := flowlake.ConfigFromContext(ctx(all))
	if err != nil {
		t.Fatalf("ConfigFromContext(%v) = %v", kv, err)
	}
	return c
}

// TestLifecycleAfterCompaction: the compactor looks back past every
// redelivery that can come (the raw bucket's expiration, the ingest DLQ's
// 14 days), and the lake's lifecycle only acts after that: no transition
// (retrieval and early-deletion fees on what compaction reads and deletes)
// and no expiration of an object a compaction still needs. A
// configuration that would make them meet is refused, naming the key.
func TestLifecycleAfterCompaction(t *testing.T) {
	d := validConfig(t, nil)
	if lb := d.CompactLookbackDays(); lb < 15 || lb <= d.RawExpirationDays || d.LakeTransitionDays <= lb {
		t.Errorf("defaults: lookback %d days, raw expiration %d, lake transition %d; want raw < lookback, 14 < lookback < transition",
			lb, d.RawExpirationDays, d.LakeTransitionDays)
	}
	if lb := validConfig(t, map[string]any{flowlake.CtxRawExpirationDays: 3.0}).CompactLookbackDays(); lb != 15 {
		t.Errorf("lookback with raw files kept 3 days = %d; want 15 (the DLQ's 14 days, and one)", lb)
	}
	for _, tt := range []struct {
		name string
		kv   map[string]any
		want []string
	}{
		{"raw kept longer than the transition", map[string]any{flowlake.CtxRawExpirationDays: 120.0}, []string{flowlake.CtxLakeTransitionDays, "lookback of 121 days"}},
		{"transition within the lookback", map[string]any{flowlake.CtxLakeStorageClass: "GLACIER_IR", flowlake.CtxLakeTransitionDays: 10.0},
			[]string{flowlake.CtxLakeTransitionDays, "lookback of 31 days"}},
		{"transition on the lookback's last day", map[string]any{flowlake.CtxLakeStorageClass: "INTELLIGENT_TIERING", flowlake.CtxLakeTransitionDays: 31.0},
			[]string{flowlake.CtxLakeTransitionDays}},
		{"min age under the detector's reach", map[string]any{flowlake.CtxCompactMinAgeHours: 2.0}, []string{flowlake.CtxCompactMinAgeHours, "at least 3"}},
		{"target too small", map[string]any{flowlake.CtxCompactTargetMiB: 4.0}, []string{flowlake.CtxCompactTargetMiB}},
		{"bad schedule", map[string]any{flowlake.CtxCompactSchedule: "hourly"}, []string{flowlake.CtxCompactSchedule}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kv := map[string]any{flowlake.CtxVPCs: "vpc-89abcdef"}
			for k, v := range tt.kv {
				kv[k] = v
			}
			_, err := flowlake.ConfigFromContext(ctx(kv))
			if err == nil {
				t.Fatalf("ConfigFromContext(%v) = nil; want an error", tt.kv)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ConfigFromContext(%v) = %q; want it to mention %q", tt.kv, err, w)
				}
			}
		})
	}
	if c := validConfig(t, map[string]any{flowlake.CtxLakeStorageClass: "GLACIER_IR", flowlake.CtxLakeTransitionDays: 32.0}); c.LakeTransitionDays != 32 {
		t.Errorf("transition the day after the lookback: %+v", c)
	}
}
