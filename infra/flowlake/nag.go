package flowlake

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ApplyNag adds the cdk-nag AwsSolutions pack to every construct of scope
// (the app, or one stack), so each synth reports its findings as errors
// (the cdk CLI then fails) and tests can read them from the stack's
// annotations. Every construct of this package records the findings it
// accepts, with the reason, where it creates what they are about.
func ApplyNag(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}
