package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/flowlake/flowlake/shared/emf"
	"github.com/flowlake/flowlake/shared/notify"
	"github.com/flowlake/flowlake/shared/schedule"
)

// function is this function's name: its folder, and its metrics'
// Function dimension.
const function = "detect"

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	cfg, err := schedule.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("detect: configuration", "error", err)
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("detect: aws config", "error", err)
		os.Exit(1)
	}
	metrics := &emf.Writer{W: os.Stdout, Namespace: os.Getenv(emf.EnvNamespace)}
	pub, err := cfg.Notify.Publisher(notify.Clients{
		SNS: sns.NewFromConfig(awsCfg), DynamoDB: dynamodb.NewFromConfig(awsCfg), S3: s3.NewFromConfig(awsCfg, cfg.Notify.S3Options),
	}, log, &notify.Metrics{W: metrics, Function: function})
	if err != nil {
		log.Error("detect: publisher", "error", err)
		os.Exit(1)
	}
	h, err := cfg.Handler(athena.NewFromConfig(awsCfg), pub, log, metrics, function)
	if err != nil {
		log.Error("detect: rules", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
