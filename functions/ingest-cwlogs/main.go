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
		fmt.Fprintln(os.Stderr, "ingest-cwlogs: config:", err)
		os.Exit(1)
	}
	client, err := env.S3Client(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest-cwlogs:", err)
		os.Exit(1)
	}
	p := env.Pipeline(client, "ingest-cwlogs", os.Stderr, os.Stdout)
	if err := env.AddFindings(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "ingest-cwlogs: findings:", err)
		os.Exit(1)
	}
	h := &pipeline.CloudWatchHandler{
		Pipeline: p,
		Format:   env.Format,
	}
	lambda.Start(h.Handle)
}
