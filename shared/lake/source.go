package lake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Source identifies what a batch of records was read from. Its ID decides
// the object names: the same ID always gives the same keys, so converting a
// source again overwrites its objects instead of adding rows.
//
// Account and Region, when set, are the partition values of every record
// (the owner and region of the flow log, known from an S3 key or a
// CloudWatch Logs payload). When empty, each record's account_id and region
// are used; then FallbackRegion for a record with no region; and "unknown"
// when there is still none. Time is the partition time of a record with
// neither start nor end; a conversion whose source has no Time uses the
// time it started, never the Unix epoch, so that every row lands in a day
// that partition projection enumerates.
type Source struct {
	ID             string
	Account        string
	Region         string
	FallbackRegion string
	Time           time.Time
}

// S3Source returns the source of an S3 object. The ETag (or the version
// id, on a versioned bucket) makes a rewritten object a new source.
func S3Source(bucket, key, etag, versionID string) Source {
	id := "s3://" + bucket + "/" + key + "#etag=" + strings.Trim(etag, `"`)
	if versionID != "" {
		id += "&version=" + versionID
	}
	src := Source{ID: id}
	src.Account, src.Region = ParseAWSLogsKey(key)
	return src
}

// CloudWatchSource returns the source of one CloudWatch Logs subscription
// batch, identified by its first and last log-event ids.
func CloudWatchSource(owner, logGroup, logStream, firstEventID, lastEventID string) Source {
	return Source{
		ID:      "cwl:" + owner + ":" + logGroup + ":" + logStream + "#" + firstEventID + "-" + lastEventID,
		Account: owner,
	}
}

// FileSource returns the source of a local file: its absolute path, size
// and modification time, so converting an unchanged file again gives the
// same keys.
func FileSource(path string) (Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Source{}, fmt.Errorf("source %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Source{}, fmt.Errorf("source: %w", err)
	}
	return Source{ID: fmt.Sprintf("file://%s#size=%d&mtime=%d", abs, fi.Size(), fi.ModTime().UnixNano()), Time: fi.ModTime().UTC()}, nil
}

// Hash returns the short stable hash of the source ID that begins every
// object name: 20 hex digits (80 bits) of SHA-256.
func (s Source) Hash() string {
	h := sha256.Sum256([]byte(s.ID))
	return hex.EncodeToString(h[:10])
}

// ParseAWSLogsKey returns the account and region of an S3 key written by
// VPC Flow Logs, in the plain layout (…/AWSLogs/<account>/vpcflowlogs/<region>/…)
// or the Hive one (…/AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/…).
// It returns empty strings when the key has neither.
func ParseAWSLogsKey(key string) (account, region string) {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		if p != "AWSLogs" || i+3 >= len(parts) {
			continue
		}
		a, svc, r := parts[i+1], parts[i+2], parts[i+3]
		a = strings.TrimPrefix(a, "aws-account-id=")
		svc = strings.TrimPrefix(svc, "aws-service=")
		r = strings.TrimPrefix(r, "aws-region=")
		if svc == "vpcflowlogs" {
			return a, r
		}
	}
	return "", ""
}

// objectKey returns the key of part n of a partition's data from src.
func objectKey(prefix string, p Partition, hash string, n int) string {
	key := fmt.Sprintf("%s/%s-%04d.parquet", p.Path(), hash, n)
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		key = prefix + "/" + key
	}
	return key
}
