package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlake/flowlake/shared/pipeline"
)

func main() {
	env, client, p, err := pipeline.Wire(context.Background(), "ingest-s3", os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest-s3:", err)
		os.Exit(1)
	}
	h := &pipeline.S3Handler{
		Pipeline:   p,
		S3:         client,
		LakeBucket: env.LakeBucket,
		RawPrefix:  env.RawPrefix,
	}
	lambda.Start(h.Handle)
}
