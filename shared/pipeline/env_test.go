package pipeline

import (
	"strings"
	"testing"
)

func TestLoadEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	e, err := LoadEnv(env(map[string]string{
		EnvLakeBucket: "lake", EnvFormat: "${srcaddr} ${dstaddr}", EnvMaxObjectBytes: "1000",
		EnvIPRanges: "s3://cfg/ip-ranges.json", EnvLogLevel: "debug", EnvRawPrefix: "/AWSLogs/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if e.LakePrefix != DefaultLakePrefix || e.RejectsPrefix != DefaultRejectsPrefix || e.Format.Len() != 2 ||
		e.Limits.MaxObjectBytes != 1000 || e.RawPrefix != "AWSLogs" || e.LogLevel.String() != "DEBUG" {
		t.Errorf("LoadEnv = %+v", e)
	}
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{}, EnvLakeBucket},
		{map[string]string{EnvLakeBucket: "l", EnvFormat: "${nope}"}, EnvFormat},
		{map[string]string{EnvLakeBucket: "l", EnvMaxInflateRatio: "-1"}, EnvMaxInflateRatio},
		{map[string]string{EnvLakeBucket: "l", EnvIPRanges: "bucket/key"}, EnvIPRanges},
		{map[string]string{EnvLakeBucket: "l", EnvLakePrefix: "x", EnvRejectsPrefix: "x/"}, EnvRejectsPrefix},
	} {
		if _, err := LoadEnv(env(tc.kv)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadEnv(%v) = %v; want an error naming %s", tc.kv, err, tc.want)
		}
	}
}
