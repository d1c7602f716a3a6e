package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlake/flowlake/shared/pipeline"
)

func main() {
	pipeline.SetMemoryLimit(os.Getenv)
	env, err := pipeline.LoadEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest-s3: config:", err)
		os.Exit(1)
	}
	client, err := env.S3Client(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest-s3:", err)
		os.Exit(1)
	}
	p := env.Pipeline(client, "ingest-s3", os.Stderr, os.Stdout)
	if err := env.AddFindings(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "ingest-s3: findings:", err)
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
