package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/athena"
)

func main() {
	env, err := configFromEnv(os.Getenv)
	if err != nil {
		slog.Error("detect: configuration", "err", err)
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("detect: aws config", "err", err)
		os.Exit(1)
	}
	env.Athena = athena.NewFromConfig(awsCfg)
	lambda.Start(env.Handle)
}
