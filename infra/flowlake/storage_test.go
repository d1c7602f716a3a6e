package flowlake_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/flowlake/flowlake/infra/flowlake"
)

// checkBuckets: every bucket of tp blocks public access, is encrypted
// with SSE-S3, has a lifecycle and, but the access-log bucket, logs its
// server access; every bucket policy denies requests not over TLS 1.2.
func checkBuckets(t *testing.T, name string, tp *template) {
	t.Helper()
	buckets := tp.resources("AWS::S3::Bucket")
	if len(buckets) != 4 {
		t.Errorf("%s: %d buckets; want 4 (access logs, raw, lake, Athena results)", name, len(buckets))
	}
	logged := 0
	for id, b := range buckets {
		pab := js(b["PublicAccessBlockConfiguration"])
		if pab != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
			t.Errorf("%s/%s: PublicAccessBlockConfiguration = %s; want all blocked", name, id, pab)
		}
		var enc struct {
			ServerSideEncryptionConfiguration []struct {
				ServerSideEncryptionByDefault struct{ SSEAlgorithm string }
			}
		}
		remarshal(t, b["BucketEncryption"], &enc)
		if len(enc.ServerSideEncryptionConfiguration) != 1 || enc.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
			t.Errorf("%s/%s: BucketEncryption = %s; want SSE-S3", name, id, js(b["BucketEncryption"]))
		}
		if b["OwnershipControls"] == nil || !contains(js(b["OwnershipControls"]), `"ObjectOwnership":"BucketOwnerEnforced"`) {
			t.Errorf("%s/%s: OwnershipControls = %s; want BucketOwnerEnforced", name, id, js(b["OwnershipControls"]))
		}
		if b["LoggingConfiguration"] != nil {
			logged++
		}
		if b["LifecycleConfiguration"] == nil {
			t.Errorf("%s/%s: no lifecycle", name, id)
		}
	}
	if logged != 3 {
		t.Errorf("%s: %d buckets log server access; want 3 (all but the log bucket)", name, logged)
	}
	pols := tp.resources("AWS::S3::BucketPolicy")
	if len(pols) != 4 {
		t.Errorf("%s: %d bucket policies; want 4", name, len(pols))
	}
	for id, p := range pols {
		var insecure, oldTLS bool
		for _, st := range statements(t, p["PolicyDocument"]) {
			if st.Effect != "Deny" || len(st.Action) != 1 || !covers(st.Action[0], "s3:GetObject") {
				continue
			}
			insecure = insecure || st.Condition["Bool"]["aws:SecureTransport"] == "false"
			oldTLS = oldTLS || st.Condition["NumericLessThan"]["s3:TlsVersion"] == 1.2
		}
		if !insecure || !oldTLS {
			t.Errorf("%s/%s: policy does not deny insecure transport and TLS < 1.2: %s", name, id, js(p))
		}
	}
}

func TestStorage(t *testing.T) {
	stack, tp := synth(t, func(stack awscdk.Stack) {
		flowlake.NewStorage(stack, "Storage", flowlake.StorageProps{LakeTransitionDays: 90})
	})
	checkNag(t, stack, tp)
	checkBuckets(t, "Storage", tp)
	// The defaults: raw expires after 30 days, access logs after 90; the
	// lake goes to STANDARD_IA and never expires; old versions go after a
	// week; every bucket is kept when the stack goes.
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
			"Id": "expire-raw", "ExpirationInDays": 30, "NoncurrentVersionExpiration": map[string]any{"NoncurrentDays": 7},
			"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1}, "Status": "Enabled",
		}}},
		"LoggingConfiguration": map[string]any{"DestinationBucketName": map[string]any{"Ref": like("^StorageAccessLogs")}, "LogFilePrefix": "raw/"},
	})
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"VersioningConfiguration": map[string]any{"Status": "Enabled"},
		"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Id": "lake-tiering", "ExpirationInDays": assertions.Match_Absent(),
			"Transitions": []any{map[string]any{"StorageClass": "STANDARD_IA", "TransitionInDays": 90}},
		}))}},
	})
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{"Id": "expire-access-logs", "ExpirationInDays": 90}))}},
		"LoggingConfiguration":   assertions.Match_Absent(),
	})
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"VersioningConfiguration": assertions.Match_Absent(),
		"LifecycleConfiguration":  map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{"Id": "expire-results", "ExpirationInDays": 7}))}},
	})
	for id, r := range tp.doc["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::S3::Bucket" && r["DeletionPolicy"] != "Retain" {
			t.Errorf("%s: DeletionPolicy = %v; want Retain", id, r["DeletionPolicy"])
		}
	}
}

func TestStorageProps(t *testing.T) {
	_, tp := synth(t, func(stack awscdk.Stack) {
		flowlake.NewStorage(stack, "Storage", flowlake.StorageProps{
			RawExpirationDays: 3, LakeTransitionDays: 0, LakeStorageClass: "INTELLIGENT_TIERING", LakeExpirationDays: 400,
			AccessLogExpirationDays: 10,
		})
	})
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{"Id": "expire-raw", "ExpirationInDays": 3}))}},
	})
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{
			"Id": "lake-tiering", "ExpirationInDays": 400,
			"Transitions": []any{map[string]any{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}},
		}))}},
	})
	has(t, tp, "AWS::S3::Bucket", map[string]any{
		"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(obj(map[string]any{"Id": "expire-access-logs", "ExpirationInDays": 10}))}},
	})
}

// TestStorageGrants: each grant reaches its prefix only: the raw files
// are read, never written; the lake is written, never read or deleted.
func TestStorageGrants(t *testing.T) {
	raw := `^\$\{StorageRaw[0-9A-F]{8}\.Arn\}`
	lake := `^\$\{StorageLake[0-9A-F]{8}\.Arn\}`
	for _, tt := range []struct {
		name       string
		grant      func(s *flowlake.Storage, stack awscdk.Stack)
		allow, not [][2]string // action, resource
	}{
		{"GrantRawRead", func(s *flowlake.Storage, stack awscdk.Stack) { s.GrantRawRead(grantee(stack)) },
			[][2]string{{"s3:GetObject", raw + `/AWSLogs/\*$`}, {"s3:ListBucket", raw + `$`}},
			[][2]string{{"s3:GetObject", raw + `/\*$`}, {"s3:PutObject", raw}, {"s3:DeleteObject", raw}, {"s3:GetObject", lake}}},
		{"GrantLakeWrite", func(s *flowlake.Storage, stack awscdk.Stack) { s.GrantLakeWrite(grantee(stack)) },
			[][2]string{{"s3:PutObject", lake + `/flows/\*$`}, {"s3:PutObject", lake + `/rejects/\*$`}, {"s3:AbortMultipartUpload", lake + `/flows/\*$`}},
			[][2]string{{"s3:GetObject", lake}, {"s3:ListBucket", lake}, {"s3:DeleteObject", lake}, {"s3:PutObject", lake + `/\*$`},
				{"s3:PutObject", lake + `/dead-letter/`}, {"s3:PutObject", raw}}},
		{"GrantDeadLetterWrite", func(s *flowlake.Storage, stack awscdk.Stack) { s.GrantDeadLetterWrite(grantee(stack)) },
			[][2]string{{"s3:PutObject", lake + `/dead-letter/notify/\*$`}},
			[][2]string{{"s3:GetObject", lake}, {"s3:PutObject", lake + `/flows/`}, {"s3:DeleteObject", lake}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, tp := synth(t, func(stack awscdk.Stack) {
				tt.grant(flowlake.NewStorage(stack, "Storage", flowlake.StorageProps{LakeTransitionDays: 90}), stack)
			})
			sts := tp.rolePolicy(t, "Grantee")
			for _, a := range tt.allow {
				if len(allowed(sts, a[0], a[1])) == 0 {
					t.Errorf("%s: no %s on %s:\n%v", tt.name, a[0], a[1], sts)
				}
			}
			for _, a := range tt.not {
				if got := allowed(sts, a[0], a[1]); len(got) != 0 {
					t.Errorf("%s: %s on %v; want none", tt.name, a[0], got)
				}
			}
		})
	}
}
