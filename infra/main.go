package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/flowlake/flowlake/infra/flowlake"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "flowlake infra:", err)
		os.Exit(1)
	}
}

func run() error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := flowlake.ConfigFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return fmt.Errorf("configuration (cdk.json context):\n%w", err)
	}
	root, err := flowlake.RepoRoot(".")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "flowlake-bootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	code, err := flowlake.BuildFunctions(root, flowlake.FunctionNames(cfg), tmp)
	if err != nil {
		return fmt.Errorf("building the Lambda functions: %w", err)
	}
	var ingest []string
	for _, n := range []string{flowlake.FnIngestS3, flowlake.FnIngestCWLogs} {
		if code[n] != "" {
			ingest = append(ingest, code[n])
		}
	}
	if len(ingest) > 0 {
		if _, err := flowlake.ShipGeoDatabases(root, ingest...); err != nil {
			return err
		}
	}
	// One stack, or the organisation's stages (flowlake:mode,
	// flowlake:members), each checked by cdk-nag.
	if _, err := flowlake.NewDeployment(app, flowlake.DeploymentProps{
		Config: cfg,
		Code:   code,
		Env:    &awscdk.Environment{Account: env("CDK_DEFAULT_ACCOUNT"), Region: env("CDK_DEFAULT_REGION")},
	}); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

// env returns the variable's value, or nil (unknown to the CDK) when unset.
func env(name string) *string {
	if v := os.Getenv(name); v != "" {
		return &v
	}
	return nil
}
