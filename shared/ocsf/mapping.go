package ocsf

import (
	"strconv"

	"github.com/flowlake/flowlake/shared/lake"
)

// ViewName is the name of the view in Athena (a Glue view) and in DuckDB.
const ViewName = "flows_ocsf"

// Version is the OCSF schema version the view maps to (metadata.version).
const Version = "1.1.0"

// Where the mapping's rules come from: files of the ocsf/examples
// repository (github.com/ocsf/examples).
const (
	// Dossier is the event dossier of VPC Flow Logs for OCSF 1.1.0: the
	// constants (category, class, severity, metadata.product, profiles),
	// the direct mappings and the conditional ones (activity, action and
	// disposition from action, boundary from traffic_path, direction from
	// flow_direction, the endpoints' addresses from pkt_*addr, the
	// interface's ids by flow_direction, everything else to unmapped).
	Dossier = "ocsf/examples: mappings/markdown/AWS/v1.1.0/VPC Flowlogs/README.md"
	// Pipeline is the Data Prepper pipeline of the same mapping, OCSF
	// 1.1.0: the values the dossier's conditionals take.
	Pipeline = "ocsf/examples: mappings/dataprepper/AWS/v1.1.0/VPC Flow/pipeline.yaml"
	// Sample is the dossier's sample event (a REJECT, ingress): times in
	// milliseconds, disposition_id 2, type_uid 400105, unmapped.
	Sample = "ocsf/examples: mappings/markdown/AWS/VPC Flowlogs/samples/vpcflowlog.ocsf"
	// Schema is the OCSF 1.1.0 schema's definition of the attribute
	// (ocsf/ocsf-schema): the enum captions and type_uid = class_uid * 100
	// + activity_id.
	Schema = "OCSF 1.1.0 schema (ocsf/ocsf-schema)"
	// Flowlake marks the columns that are flowlake's own, not OCSF's.
	Flowlake = "flowlake"
)

// Kind is the type of a field of the view.
type Kind uint8

// Kinds of field.
const (
	KindString      Kind = iota + 1 // varchar / string
	KindInt                         // integer / int
	KindBigInt                      // bigint
	KindTimestamp                   // timestamp(3) / timestamp, UTC
	KindStringArray                 // array(varchar) / array<string>
	KindStringMap                   // map(varchar, varchar) / map<string,string>: Entries
	KindObject                      // an OCSF object: row(...) / struct<...>: Fields
)

// Field is one field of the view: a leaf with its SQL, an object of
// fields, or a map of entries.
type Field struct {
	Name string
	Kind Kind
	// SQL is a leaf's value: an expression in the SQL Trino and DuckDB
	// share, over the columns of the flows table, each quoted ("srcaddr").
	// The renderers cast it to the field's type.
	SQL string
	// Fields are an object's fields, in order.
	Fields []Field
	// Entries are a map's entries; an entry whose value is NULL is left
	// out.
	Entries []Entry
	// Source says where the rule comes from: Dossier, Pipeline, Sample,
	// Schema, with a note where a choice was made.
	Source string
}

// Entry is one entry of a map field: its key and its value, a varchar
// expression like a leaf's SQL (NULL: the entry is left out).
type Entry struct {
	Key string
	SQL string
}

func leaf(name string, k Kind, sql, source string) Field {
	return Field{Name: name, Kind: k, SQL: sql, Source: source}
}

func object(name, source string, fields ...Field) Field {
	return Field{Name: name, Kind: KindObject, Fields: fields, Source: source}
}

// byAction is a CASE on the flow's action: ACCEPT, REJECT, and anything
// else (NODATA and SKIPDATA records have none, nor transit-gateway ones).
func byAction(accept, reject, other string) string {
	return `CASE "action" WHEN 'ACCEPT' THEN ` + accept + ` WHEN 'REJECT' THEN ` + reject + ` ELSE ` + other + ` END`
}

// The endpoints' addresses (Dossier, "Subject to evaluation, if
// pkt_srcaddr equals srcaddr"): when the packet's address differs from the
// interface's, the packet's is the endpoint's and the interface's (a NAT
// gateway's, a transit gateway's) is its intermediate address. A record
// without pkt-*addr (versions 2, and any format that leaves them out) has
// nothing to differ: its address is srcaddr or dstaddr.
func differs(side string) string {
	return `"pkt_` + side + `addr" IS NOT NULL AND "` + side + `addr" IS NOT NULL AND "pkt_` + side + `addr" <> "` + side + `addr"`
}

func endpointIP(side string) string {
	return `CASE WHEN ` + differs(side) + ` THEN "pkt_` + side + `addr" ELSE COALESCE("` + side + `addr", "pkt_` + side + `addr") END`
}

func intermediateIPs(side string) string {
	return `CASE WHEN ` + differs(side) + ` THEN ARRAY["` + side + `addr"] END`
}

// onDirection is col when the record's flow_direction is dir (Dossier:
// "if flow_direction equals ingress", the interface's ids are the
// destination's; "equals egress", the source's), else NULL.
func onDirection(dir, col string) string {
	return `CASE WHEN "flow_direction" = '` + dir + `' THEN "` + col + `" END`
}

// interfaceColumns are the recording interface's ids and the endpoint
// fields the Dossier maps them to.
var interfaceColumns = [][2]string{
	{"interface_uid", "interface_id"}, {"vpc_uid", "vpc_id"}, {"instance_uid", "instance_id"}, {"subnet_uid", "subnet_id"},
}

func endpoint(name, side, dir, svc string) Field {
	fields := []Field{
		leaf("ip", KindString, endpointIP(side), Dossier+` ("if pkt_`+side+`addr equals `+side+`addr": `+side+`addr, else pkt_`+side+`addr); without pkt_`+side+`addr, `+side+`addr`),
		leaf("port", KindInt, `"`+side+`port"`, Dossier+": "+side+"port"),
		leaf("svc_name", KindString, `"`+svc+`"`, Dossier+": "+svc),
		leaf("intermediate_ips", KindStringArray, intermediateIPs(side),
			Dossier+` (else branch: `+side+`addr, when pkt_`+side+`addr differs); NULL otherwise`),
	}
	for _, c := range interfaceColumns {
		fields = append(fields, leaf(c[0], KindString, onDirection(dir, c[1]), Dossier+` ("if flow_direction equals `+dir+`": `+c[1]+`)`))
	}
	return object(name, Dossier, fields...)
}

// boundaries are the OCSF boundary_id of each traffic_path, and its
// caption (Pipeline: traffic_path 1..8 is boundary_id 4..11; the captions
// are the Schema's, which the Pipeline's follow).
var boundaries = []struct {
	path, id int
	caption  string
}{
	{1, 4, "Same VPC"}, {2, 5, "Internet/VPC Gateway"}, {3, 6, "Virtual Private Gateway"}, {4, 7, "Intra-region VPC"},
	{5, 8, "Inter-region VPC"}, {6, 9, "Local Gateway"}, {7, 10, "Gateway VPC"}, {8, 11, "Internet Gateway"},
}

func boundaryID() string {
	s := `CASE WHEN "traffic_path" IS NULL THEN NULL`
	for _, b := range boundaries {
		s += ` WHEN "traffic_path" = ` + strconv.Itoa(b.path) + ` THEN ` + strconv.Itoa(b.id)
	}
	return s + ` ELSE 99 END`
}

func boundary() string {
	s := `CASE "traffic_path"`
	for _, b := range boundaries {
		s += ` WHEN ` + strconv.Itoa(b.path) + ` THEN '` + b.caption + `'`
	}
	return s + ` ELSE CAST("traffic_path" AS VARCHAR) END`
}

// Unmapped lists the flow-log columns no rule maps (Dossier: "Any fields
// not present in an explicit mapping will be mapped to the unmapped
// object"), keyed by their column name as the Pipeline keys
// sublocation_id and sublocation_type; the recording interface's ids join
// them when flow_direction is neither ingress nor egress, where neither of
// the Dossier's conditionals maps them (records before version 5).
var Unmapped = []string{
	"sublocation_type", "sublocation_id",
	"ecs_cluster_arn", "ecs_cluster_name", "ecs_container_instance_arn", "ecs_container_instance_id", "ecs_container_id",
	"ecs_second_container_id", "ecs_service_name", "ecs_task_definition_arn", "ecs_task_arn", "ecs_task_id",
	"reject_reason", "resource_id", "encryption_status",
	"interface_type", "next_hop_interface_id", "next_hop_subnet_id", "next_hop_az_id", "next_hop_vpc_id", "next_hop_interface_type",
	"instance_tag", "interface_tag",
	"resource_type", "tgw_id", "tgw_attachment_id", "tgw_src_vpc_account_id", "tgw_dst_vpc_account_id", "tgw_src_vpc_id",
	"tgw_dst_vpc_id", "tgw_src_subnet_id", "tgw_dst_subnet_id", "tgw_src_eni", "tgw_dst_eni", "tgw_src_az_id", "tgw_dst_az_id",
	"tgw_pair_attachment_id", "packets_lost_no_route", "packets_lost_blackhole", "packets_lost_mtu_exceeded", "packets_lost_ttl_expired",
}

func unmapped() Field {
	var es []Entry
	for _, c := range Unmapped {
		es = append(es, Entry{Key: c, SQL: `CAST("` + c + `" AS VARCHAR)`})
	}
	for _, c := range interfaceColumns {
		es = append(es, Entry{Key: c[1], SQL: `CASE WHEN "flow_direction" = 'ingress' OR "flow_direction" = 'egress' THEN NULL ELSE "` + c[1] + `" END`})
	}
	return Field{Name: "unmapped", Kind: KindStringMap, Entries: es,
		Source: Dossier + " (fields not mapped); Pipeline (unmapped/sublocation_id, unmapped/sublocation_type); Sample (unmapped)"}
}

// Fields returns the view's fields, in order: the OCSF event's, then the
// lake's partition keys (flowlake's: a query on the view filters on day
// and hour as on flows, so Athena prunes partitions).
func Fields() []Field {
	fields := []Field{
		leaf("activity_id", KindInt, byAction("6", "5", "0"), Dossier+" (activity_id from action); Pipeline: ACCEPT 6, REJECT 5; Schema: 0 Unknown otherwise"),
		leaf("activity_name", KindString, byAction("'Traffic'", "'Refuse'", "'Unknown'"), Dossier+" (activity_name from action); Pipeline: Traffic, Refuse; Schema: Unknown"),
		leaf("category_uid", KindInt, "4", Dossier+": 4"),
		leaf("category_name", KindString, "'Network Activity'", Dossier+": Network Activity"),
		leaf("class_uid", KindInt, "4001", Dossier+": 4001"),
		leaf("class_name", KindString, "'Network Activity'", Dossier+": Network Activity"),
		leaf("type_uid", KindBigInt, byAction("400106", "400105", "400100"),
			Dossier+" (type_uid from action); Schema: class_uid * 100 + activity_id; Sample: 400105 for REJECT (the Pipeline's 400106 for REJECT contradicts both)"),
		leaf("type_name", KindString, byAction("'Network Activity: Traffic'", "'Network Activity: Refuse'", "'Network Activity: Unknown'"),
			Dossier+" (type_name from action); Pipeline; Sample"),
		leaf("severity_id", KindInt, "1", Dossier+": 1"),
		leaf("severity", KindString, "'Informational'", Dossier+": Informational"),
		leaf("action_id", KindInt, byAction("1", "2", "0"), Dossier+" (action_id from action); Pipeline: ACCEPT 1, REJECT 2; Schema: 0 Unknown"),
		leaf("action", KindString, byAction("'Allowed'", "'Denied'", "'Unknown'"), Dossier+" (action from action); Pipeline: Allowed, Denied"),
		leaf("disposition_id", KindInt, byAction("1", "2", "0"), Dossier+" (disposition from action); Sample: disposition_id 2 for Blocked; Schema: 1 Allowed, 2 Blocked"),
		leaf("disposition", KindString, byAction("'Allowed'", "'Blocked'", "'Unknown'"), Dossier+" (disposition from action); Pipeline: Allowed, Blocked"),
		leaf("status_id", KindInt, byAction("1", "2", "0"), Pipeline+": ACCEPT 1, REJECT 2 (the Dossier lists no status)"),
		leaf("status", KindString, byAction("'Success'", "'Failure'", "'Unknown'"), Pipeline+": Success, Failure"),
		leaf("status_code", KindString, `"log_status"`, Dossier+": log_status"),
		leaf("time", KindBigInt, `"start" * 1000`, Dossier+": start; Sample: in milliseconds (OCSF timestamp_t)"),
		leaf("time_dt", KindTimestamp, `"flows"."start_time"`, Dossier+": start (the datetime profile)"),
		leaf("start_time", KindBigInt, `"start" * 1000`, Pipeline+": start; Sample: in milliseconds"),
		leaf("start_time_dt", KindTimestamp, `"flows"."start_time"`, Dossier+": start"),
		leaf("end_time", KindBigInt, `"end" * 1000`, Pipeline+": end; Sample: in milliseconds"),
		leaf("end_time_dt", KindTimestamp, `"flows"."end_time"`, Dossier+": end"),
		object("metadata", Dossier,
			object("product", Dossier,
				leaf("name", KindString, "'Amazon VPC'", Dossier+": Amazon VPC"),
				leaf("vendor_name", KindString, "'AWS'", Dossier+": AWS"),
				leaf("version", KindString, `CAST("version" AS VARCHAR)`, Dossier+": version; Pipeline: as a string"),
				object("feature", Dossier, leaf("name", KindString, "'Flowlogs'", Dossier+": Flowlogs")),
			),
			leaf("profiles", KindStringArray, "ARRAY['cloud', 'security_control', 'datetime']", Dossier+": [cloud, security_control, datetime]"),
			leaf("version", KindString, "'"+Version+"'", Dossier+": 1.1.0"),
		),
		object("cloud", Dossier,
			object("account", Dossier, leaf("uid", KindString, `"account_id"`, Dossier+": account_id")),
			leaf("provider", KindString, "'AWS'", Dossier+": AWS"),
			leaf("region", KindString, `"region"`, Dossier+": region"),
			leaf("zone", KindString, `"az_id"`, Dossier+": az_id"),
		),
		endpoint("src_endpoint", "src", "egress", "pkt_src_aws_service"),
		endpoint("dst_endpoint", "dst", "ingress", "pkt_dst_aws_service"),
		object("connection_info", Dossier,
			leaf("protocol_num", KindInt, `"protocol"`, Dossier+": protocol"),
			leaf("protocol_ver", KindString, `"type"`, Pipeline+": type (the Dossier's protocol_ver names no flow-log field)"),
			leaf("tcp_flags", KindInt, `"tcp_flags"`, Dossier+": tcp_flags"),
			leaf("boundary_id", KindInt, boundaryID(),
				Dossier+" (boundary_id from traffic_path); Pipeline: 1..8 are 4..11; Schema: 99 Other for another value; NULL without traffic_path (ingress)"),
			leaf("boundary", KindString, boundary(), Dossier+" (boundary from traffic_path); Pipeline: the captions; Schema: for 99, the source's value"),
			leaf("direction_id", KindInt, `CASE "flow_direction" WHEN 'ingress' THEN 1 WHEN 'egress' THEN 2 ELSE 0 END`,
				Dossier+" (direction_id from flow_direction); Pipeline: ingress 1, egress 2; Schema: required, 0 Unknown otherwise"),
			leaf("direction", KindString, `CASE "flow_direction" WHEN 'ingress' THEN 'Inbound' WHEN 'egress' THEN 'Outbound' ELSE 'Unknown' END`,
				Dossier+" (direction from flow_direction); Pipeline: Inbound, Outbound"),
		),
		object("traffic", Dossier,
			leaf("bytes", KindBigInt, `"bytes"`, Dossier+": bytes"),
			leaf("packets", KindBigInt, `"packets"`, Dossier+": packets"),
		),
		unmapped(),
	}
	for _, k := range lake.PartitionKeys() {
		fields = append(fields, leaf(k, KindString, `"`+k+`"`, Flowlake+": the lake's partition key, for partition pruning"))
	}
	return fields
}
