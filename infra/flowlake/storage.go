package flowlake

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/flowlake/flowlake/shared/compact"

	"github.com/flowlake/flowlake/shared/lake"
	"github.com/flowlake/flowlake/shared/notify"
)

// Key prefixes inside the buckets.
const (
	// RawPrefix is where VPC Flow Logs writes in the raw bucket (AWS adds
	// AWSLogs/<account>/vpcflowlogs/<region>/yyyy/MM/dd/ under the
	// destination, which is the bucket's root).
	RawPrefix = "AWSLogs/"
	// LakePrefix holds the Parquet data; the Glue table's location.
	LakePrefix = "flows/"
	// RollupPrefix holds each compacted partition-hour's rollup, which the
	// compactor writes (compact.RollupPrefix).
	RollupPrefix = compact.RollupPrefix + "/"
	// RejectsPrefix holds the samples of rejected lines.
	RejectsPrefix = "rejects/"
	// DeadLetterPrefix holds the findings that could not be published
	// (notify.S3DeadLetter), in the lake bucket.
	DeadLetterPrefix = notify.DefaultDeadLetterPrefix + "/"
	// ResultsPrefix holds Athena's query results.
	ResultsPrefix = "athena/"
	// ThreatListsPrefix holds the threat lists' Parquet rows, the
	// threat_lists Glue table's location (lake.ThreatListsPrefix, under
	// the lake bucket's reference/).
	ThreatListsPrefix = lake.ThreatListsPrefix
	// ThreatListSourcesPrefix holds the threat lists as imported, which
	// the ingest functions' batch engine reads (lake.ThreatListSourcesPrefix).
	ThreatListSourcesPrefix = lake.ThreatListSourcesPrefix
)

// StorageProps configures the buckets. The zero value is the defaults,
// but for LakeTransitionDays, which is taken as given (0: at once, which
// only INTELLIGENT_TIERING and GLACIER_IR allow).
type StorageProps struct {
	RawExpirationDays       int    // 0: 30 (Defaults)
	LakeTransitionDays      int    // days in STANDARD before LakeStorageClass
	LakeStorageClass        string // STANDARD_IA (""), INTELLIGENT_TIERING or GLACIER_IR
	LakeExpirationDays      int    // 0: never
	AccessLogExpirationDays int    // 0: 90 (Defaults)
	// RawBucketName names the raw bucket (tokens allowed); "": the
	// CloudFormation-generated name. A central stack's raw bucket has a
	// fixed name (CentralRawBucketName), which its members deliver to.
	RawBucketName string
}

// Storage is the lake's buckets: raw flow-log files, Parquet lake, Athena
// results, and the bucket their server access logs go to. Every bucket
// blocks public access, enforces TLS 1.2+, is encrypted (SSE-S3) and owned
// by the bucket owner alone (no ACLs); all but the access-log bucket log
// their server access, and all are kept when the stack is deleted. Grants
// are by prefix: GrantRawRead, GrantLakeWrite, GrantDeadLetterWrite.
type Storage struct {
	constructs.Construct
	Logs, Raw, Lake, Results awss3.Bucket
}

// NewStorage creates the buckets.
func NewStorage(scope constructs.Construct, id string, p StorageProps) *Storage {
	s := &Storage{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	// Server access logging grants the logging service through the logs
	// bucket's policy, not an ACL (the buckets disable ACLs).
	s.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	if p.RawExpirationDays == 0 {
		p.RawExpirationDays = Defaults().RawExpirationDays
	}
	if p.AccessLogExpirationDays == 0 {
		p.AccessLogExpirationDays = Defaults().AccessLogExpirationDays
	}

	// The access-log bucket: server access logging needs SSE-S3 and the
	// logging service's bucket policy, which the L2 adds when another
	// bucket names it as ServerAccessLogsBucket.
	s.Logs = awss3.NewBucket(s.Construct, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-access-logs"),
			Expiration:                          days(p.AccessLogExpirationDays),
			AbortIncompleteMultipartUploadAfter: days(1),
		}},
	})
	secure := func(id, name, logPrefix string, versioned bool, rules ...*awss3.LifecycleRule) awss3.Bucket {
		var bucketName *string
		if name != "" {
			bucketName = jsii.String(name)
		}
		return awss3.NewBucket(s.Construct, jsii.String(id), &awss3.BucketProps{
			BucketName:             bucketName,
			BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
			Encryption:             awss3.BucketEncryption_S3_MANAGED,
			EnforceSSL:             jsii.Bool(true),
			MinimumTLSVersion:      jsii.Number(1.2),
			ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
			Versioned:              jsii.Bool(versioned),
			ServerAccessLogsBucket: s.Logs,
			ServerAccessLogsPrefix: jsii.String(logPrefix),
			RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
			LifecycleRules:         &rules,
		})
	}

	// Raw flow-log files: the source of truth for a re-ingest, so
	// versioned (an overwrite or delete stays recoverable for a week), and
	// expired after RawExpirationDays.
	s.Raw = secure("Raw", p.RawBucketName, "raw/", true, &awss3.LifecycleRule{
		Id:                                  jsii.String("expire-raw"),
		Expiration:                          days(p.RawExpirationDays),
		NoncurrentVersionExpiration:         days(7),
		AbortIncompleteMultipartUploadAfter: days(1),
	})

	// The lake: versioned, since a re-ingest overwrites objects in place;
	// old versions go after a week. Data moves to a cheaper class Athena
	// still reads directly, and expires when configured.
	lakeRule := &awss3.LifecycleRule{
		Id: jsii.String("lake-tiering"),
		Transitions: &[]*awss3.Transition{{
			StorageClass:    storageClass(p.LakeStorageClass),
			TransitionAfter: days(p.LakeTransitionDays),
		}},
		NoncurrentVersionExpiration:         days(7),
		AbortIncompleteMultipartUploadAfter: days(1),
	}
	if p.LakeExpirationDays > 0 {
		lakeRule.Expiration = days(p.LakeExpirationDays)
	}
	s.Lake = secure("Lake", "", "lake/", true, lakeRule)

	// Athena results: scratch, kept a week.
	s.Results = secure("AthenaResults", "", "athena-results/", false, &awss3.LifecycleRule{
		Id:                                  jsii.String("expire-results"),
		Expiration:                          days(7),
		AbortIncompleteMultipartUploadAfter: days(1),
	})
	return s
}

// GrantRawRead lets grantee read the flow-log files under RawPrefix in the
// raw bucket, and nothing else of it.
func (s *Storage) GrantRawRead(grantee awsiam.IGrantable) awsiam.Grant {
	return s.Raw.GrantRead(grantee, jsii.String(RawPrefix+"*"))
}

// GrantLakeWrite lets grantee write what ingest writes to the lake: the
// Parquet objects under LakePrefix and the rejected-line samples under
// RejectsPrefix (PutObject and AbortMultipartUpload; no read, no delete).
func (s *Storage) GrantLakeWrite(grantee awsiam.IGrantable) {
	s.Lake.GrantPut(grantee, jsii.String(LakePrefix+"*"))
	s.Lake.GrantPut(grantee, jsii.String(RejectsPrefix+"*"))
}

// GrantThreatListsRead lets grantee read the threat lists' sources, as the
// ingest functions load them: list keys under ThreatListSourcesPrefix
// (s3:ListBucket with an s3:prefix condition) and get its objects, nothing
// else of the lake.
func (s *Storage) GrantThreatListsRead(grantee awsiam.IGrantable) {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee, ResourceArns: &[]*string{s.Lake.ArnForObjects(jsii.String(ThreatListSourcesPrefix + "*"))},
		Actions: jsii.Strings("s3:GetObject"),
	})
	grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("s3:ListBucket"),
		Resources:  &[]*string{s.Lake.BucketArn()},
		Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": ThreatListSourcesPrefix + "*"}},
	}))
}

// GrantLakeCompact lets grantee do what the compactor does, under
// LakePrefix only, where its objects and manifests live: list keys under
// it (s3:ListBucket with an s3:prefix condition), and get, put and delete
// objects (with the multipart uploads a large object takes). Nothing
// outside the prefix: not the rejects, not the dead letters.
func (s *Storage) GrantLakeCompact(grantee awsiam.IGrantable) {
	objects := s.Lake.ArnForObjects(jsii.String(LakePrefix + "*"))
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee, ResourceArns: &[]*string{objects},
		Actions: jsii.Strings("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
	})
	grantee.GrantPrincipal().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("s3:ListBucket"),
		Resources:  &[]*string{s.Lake.BucketArn()},
		Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": LakePrefix + "*"}},
	}))
	// Each compacted partition-hour's rollup (compact.RollupRow), which it
	// replaces whole and never reads.
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee, ResourceArns: &[]*string{s.Lake.ArnForObjects(jsii.String(RollupPrefix + "*"))},
		Actions: jsii.Strings("s3:PutObject", "s3:AbortMultipartUpload"),
	})
}

// GrantDeadLetterWrite lets grantee keep findings it could not publish
// under DeadLetterPrefix in the lake bucket (notify.S3DeadLetter).
func (s *Storage) GrantDeadLetterWrite(grantee awsiam.IGrantable) awsiam.Grant {
	return s.Lake.GrantPut(grantee, jsii.String(DeadLetterPrefix+"*"))
}

// days is a duration of n days.
func days(n int) awscdk.Duration { return awscdk.Duration_Days(jsii.Number(n)) }

func storageClass(name string) awss3.StorageClass {
	switch name {
	case "INTELLIGENT_TIERING":
		return awss3.StorageClass_INTELLIGENT_TIERING()
	case "GLACIER_IR":
		return awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL()
	}
	return awss3.StorageClass_INFREQUENT_ACCESS()
}
