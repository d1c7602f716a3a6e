package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/pipeline"
)

func main() {
	pipeline.SetMemoryLimit(os.Getenv)
	pipeline.SetCloudWatchGC(os.Getenv)
	env, err := pipeline.LoadEnv(os.Getenv)
	if err != nil {
		fail(err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fail(fmt.Errorf("aws config: %w", err))
	}
	p, err := env.Pipeline(pipeline.Clients{
		S3: s3.NewFromConfig(awsCfg, env.S3Options), EC2: ec2.NewFromConfig(awsCfg, env.EC2Options),
		SNS: sns.NewFromConfig(awsCfg), DynamoDB: dynamodb.NewFromConfig(awsCfg),
	}, "ingest-cwlogs", os.Stderr, os.Stdout)
	if err != nil {
		fail(err)
	}
	h := &pipeline.CloudWatchHandler{Pipeline: p, Format: env.Format, Region: env.Region}
	lambda.Start(h.Handle)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ingest-cwlogs:", err)
	os.Exit(1)
}
