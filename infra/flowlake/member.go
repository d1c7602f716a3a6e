package flowlake

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// MemberStackProps configures a member account's stack.
type MemberStackProps struct {
	awscdk.StackProps
	Config Config // a validated configuration, Mode ModeMember
}

// MemberStack is what a member account deploys (ModeMember): the flow
// logs of its scope, delivered by VPC Flow Logs straight into the central
// stack's raw bucket, under AWSLogs/<member account>/, where the central
// ingest function picks them up. It has no bucket, no lake, no function
// and no topic; the central bucket's policy (GrantMemberDelivery) is what
// lets the delivery in, and nothing lets the member read anything back.
//
// The one cross-account path is S3: a CloudWatch Logs subscription in
// another account can reach only a Logs destination, which targets a
// Kinesis data stream or a Firehose stream, not a Lambda function. With
// destination "both", the member keeps a copy in its own log group, for
// Logs Insights, with no subscription.
type MemberStack struct {
	awscdk.Stack
	CentralRaw awss3.IBucket
	FlowLogs   *FlowLogs
}

// NewMemberStack creates a member account's stack.
func NewMemberStack(scope constructs.Construct, id string, p MemberStackProps) (*MemberStack, error) {
	c := p.Config
	if c.Mode != ModeMember {
		return nil, fmt.Errorf("member stack %s: %s is %q; want %q", id, CtxMode, c.Mode, ModeMember)
	}
	sp := p.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("flowlake member: VPC Flow Logs delivered to the organisation's central flowlake raw bucket")
	}
	s := &MemberStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	if a := s.Account(); c.CentralAccount != "" && !*awscdk.Token_IsUnresolved(a) && *a == c.CentralAccount {
		return nil, fmt.Errorf("member stack %s: deployed to the central account %s; the central stack has that account's flow logs", id, *a)
	}
	s.CentralRaw = awss3.Bucket_FromBucketAttributes(s.Stack, jsii.String("CentralRaw"), &awss3.BucketAttributes{
		BucketName: jsii.String(c.CentralBucketName(*s.Region())),
	})
	s.FlowLogs = NewFlowLogs(s.Stack, "FlowLogs", FlowLogsProps{
		VPCs: c.VPCs, Subnets: c.Subnets, ENIs: c.ENIs, TrafficType: c.TrafficType,
		AggregationSeconds: c.AggregationSeconds, Format: c.Format(), TagKeys: c.TagFieldSpecifications(),
		Bucket: s.CentralRaw, CloudWatch: c.CloudWatch(), RetentionDays: c.FlowLogRetentionDays,
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("CentralRawBucket"), &awscdk.CfnOutputProps{Value: s.CentralRaw.BucketName()})
	return s, nil
}

// CentralBucketName is the central raw bucket a member delivers to:
// CentralRawBucket, or CentralRawBucketName of CentralAccount and
// CentralRegion (region when that is unset: the member's own).
func (c Config) CentralBucketName(region string) string {
	if c.CentralRawBucket != "" {
		return c.CentralRawBucket
	}
	if c.CentralRegion != "" {
		region = c.CentralRegion
	}
	return CentralRawBucketName(c.CentralAccount, region)
}

// Deployment is what the app synthesizes from one configuration.
type Deployment struct {
	Central *Stack         // nil in ModeMember
	Members []*MemberStack // one in ModeMember; one per Config.Members in ModeCentral
}

// DeploymentProps configures NewDeployment.
type DeploymentProps struct {
	Config Config
	Code   map[string]string // as StackProps.Code; unused in ModeMember
	// Env is the environment of a stack the configuration does not place
	// itself (CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION in the app).
	Env *awscdk.Environment
}

// NewDeployment creates the stacks of a configuration, each with the
// cdk-nag AwsSolutions pack (ApplyNag):
//   - ModeStandalone and ModeCentral without Members: one Stack, id
//     Config.StackName, in Env;
//   - ModeMember: one MemberStack, id Config.StackName, in Env;
//   - ModeCentral with Members: the organisation, one CDK Stage per
//     account: "Central" (the Stack, in CentralAccount) and
//     "Member-<account>" for each member (its MemberStack, in that
//     account, with Config.MemberConfig). `cdk deploy 'Central/*'` and
//     then `cdk deploy 'Member-*/*'` deploy them, from an account each
//     member's CDK bootstrap trusts: the members' flow logs need the
//     central bucket's policy first, and stacks in different stages and
//     accounts have no dependency CloudFormation could order.
func NewDeployment(scope constructs.Construct, p DeploymentProps) (*Deployment, error) {
	c := p.Config
	env := p.Env
	if env == nil {
		env = &awscdk.Environment{}
	}
	d := &Deployment{}
	switch {
	case c.Mode == ModeMember:
		m, err := NewMemberStack(scope, c.StackName, MemberStackProps{StackProps: awscdk.StackProps{Env: env}, Config: c})
		if err != nil {
			return nil, err
		}
		ApplyNag(m.Stack)
		d.Members = append(d.Members, m)
		return d, nil
	case len(c.Members) == 0:
		s, err := NewStack(scope, c.StackName, StackProps{StackProps: awscdk.StackProps{Env: env}, Config: c, Code: p.Code})
		if err != nil {
			return nil, err
		}
		ApplyNag(s.Stack)
		d.Central = s
		return d, nil
	}
	region := env.Region
	if c.CentralRegion != "" {
		region = jsii.String(c.CentralRegion)
	}
	central := awscdk.NewStage(scope, jsii.String("Central"), &awscdk.StageProps{
		Env: &awscdk.Environment{Account: jsii.String(c.CentralAccount), Region: region},
	})
	s, err := NewStack(central, c.StackName, StackProps{Config: c, Code: p.Code})
	if err != nil {
		return nil, err
	}
	ApplyNag(s.Stack)
	d.Central = s
	for _, m := range c.Members {
		mc := c.MemberConfig(m)
		mregion := region
		if m.Region != "" {
			mregion = jsii.String(m.Region)
		}
		if mc.CentralRegion == "" && region != nil {
			mc.CentralRegion = *region // the central bucket's name has the central region
		}
		stage := awscdk.NewStage(scope, jsii.String("Member-"+m.Account), &awscdk.StageProps{
			Env: &awscdk.Environment{Account: jsii.String(m.Account), Region: mregion},
		})
		ms, err := NewMemberStack(stage, c.StackName, MemberStackProps{Config: mc})
		if err != nil {
			return nil, err
		}
		ApplyNag(ms.Stack)
		d.Members = append(d.Members, ms)
	}
	return d, nil
}
