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
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	cfg, err := slack.ConfigFromEnv(os.Getenv)
	if err != nil {
		slog.Error("notify-slack: configuration", "err", err)
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("notify-slack: aws config", "err", err)
		os.Exit(1)
	}
	webhook := &secret.Cache{Client: secretsmanager.NewFromConfig(awsCfg), ID: cfg.SecretID, Key: cfg.SecretKey, TTL: cfg.SecretTTL}
	h := cfg.Handler
	h.Poster = &slack.Webhook{URL: webhook.Get}
	lambda.Start(h.Handle)
}
