package lake

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/flowlog"
)

// failingPut makes every upload fail, to check that errors come back.
type failingPut struct{ S3API }

func (failingPut) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return nil, errors.New("access denied")
}

func TestConvertS3Error(t *testing.T) {
	_, err := Convert(context.Background(), &S3Store{Client: failingPut{}, Bucket: "b"}, Source{ID: "x"},
		flowlog.NewReader(strings.NewReader("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n")))
	if err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("Convert with failing PutObject = %v; want access denied", err)
	}
}
