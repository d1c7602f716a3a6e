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
	env, err := pipeline.LoadEnv(os.Getenv)
	if err != nil {
		fail(err)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fail(fmt.Errorf("aws config: %w", err))
	}
	client := s3.NewFromConfig(awsCfg, env.S3Options)
	p, err := env.Pipeline(pipeline.Clients{
		S3: client, EC2: ec2.NewFromConfig(awsCfg, env.EC2Options),
		SNS: sns.NewFromConfig(awsCfg), DynamoDB: dynamodb.NewFromConfig(awsCfg),
	}, "ingest-s3", os.Stderr, os.Stdout)
	if err != nil {
		fail(err)
	}
	h := &pipeline.S3Handler{Pipeline: p, S3: client, LakeBucket: env.LakeBucket, RawPrefix: env.RawPrefix}
	lambda.Start(h.HandleSQS) // the stack triggers it through SQS
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ingest-s3:", err)
	os.Exit(1)
}
