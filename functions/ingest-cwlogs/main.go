package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/flowlake/flowlake/shared/pipeline"
)

func main() {
	env, _, p, err := pipeline.Wire(context.Background(), "ingest-cwlogs", os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest-cwlogs:", err)
		os.Exit(1)
	}
	h := &pipeline.CloudWatchHandler{
		Pipeline: p,
		Format:   env.Format,
	}
	lambda.Start(h.Handle)
}
