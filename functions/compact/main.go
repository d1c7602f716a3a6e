package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flowlake/flowlake/shared/compact"
	"github.com/flowlake/flowlake/shared/emf"
)

// function is this function's name: its folder, and its metrics'
// Function dimension.
const function = "compact"

func main() {
	compact.SetMemoryLimit(os.Getenv)
	cfg, err := compact.ConfigFromEnv(os.Getenv)
	if err != nil {
		fail(err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fail(fmt.Errorf("aws config: %w", err))
	}
	h := cfg.Handler(s3.NewFromConfig(awsCfg, cfg.S3Options), log, &emf.Writer{W: os.Stdout, Namespace: cfg.Namespace}, function)
	lambda.Start(h.Handle)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compact:", err)
	os.Exit(1)
}
