package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/flowlake/flowlake/shared/notify/secret"
	"github.com/flowlake/flowlake/shared/notify/slack"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	cfg, err := slack.ConfigFromEnv(os.Getenv)
	if err != nil {
		slog.Error("notify-slack: configuration", "error", err)
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("notify-slack: aws config", "error", err)
		os.Exit(1)
	}
	webhook := &secret.Cache{Client: secretsmanager.NewFromConfig(awsCfg), ID: cfg.SecretID, Key: cfg.SecretKey, TTL: cfg.SecretTTL}
	h := cfg.Handler
	h.Poster = &slack.Webhook{URL: webhook.Get, Log: log}
	h.Log = log
	// The stack subscribes the function to the findings topic: SNS events.
	// A digest needs batches, which only an SQS queue on the topic gives.
	if h.Digest {
		lambda.Start(h.HandleSQS)
	}
	lambda.Start(h.HandleSNS)
}
