# Promotion gate: may this model version move to the target environment?
#
# input:
#   model:        {name, version}
#   source:       "dev" | "staging"           where the version runs now
#   target:       "staging" | "prod"          where it should go
#   metrics:      {accuracy: number, ...}     evaluation on held-out data
#   drift:        {psi_max: number}           optional: worst feature PSI (population stability)
#   requested_by: string                      who asked for the promotion
#   approval:     {approved: bool, approver: string}   needed for prod
package orchlab.promotion

import rego.v1

default allow := false

# One step at a time: dev -> staging -> prod.
order := {"dev": 0, "staging": 1, "prod": 2}

# Minimum accuracy per target; override with data.config.promotion_thresholds.
default configured := {}

configured := data.config.promotion_thresholds

thresholds := object.union({"staging": 0.8, "prod": 0.9}, configured)

max_psi := 0.2

allow if count(deny) == 0

deny contains msg if {
	not order[input.source]
	msg := sprintf("unknown source environment %v; use dev or staging", [input.source])
}

deny contains msg if {
	not order[input.target]
	msg := sprintf("unknown target environment %v; use staging or prod", [input.target])
}

deny contains msg if {
	order[input.target] != order[input.source] + 1
	msg := sprintf("cannot promote from %v to %v: promote one environment at a time (dev -> staging -> prod)", [input.source, input.target])
}

deny contains msg if {
	not is_number(input.metrics.accuracy)
	msg := "metrics.accuracy is missing or not a number"
}

deny contains msg if {
	minimum := thresholds[input.target]
	is_number(input.metrics.accuracy)
	input.metrics.accuracy < minimum
	msg := sprintf("accuracy %v is below the %v required for %v", [input.metrics.accuracy, minimum, input.target])
}

deny contains msg if {
	is_number(input.drift.psi_max)
	input.drift.psi_max > max_psi
	msg := sprintf("data drift PSI %v exceeds %v", [input.drift.psi_max, max_psi])
}

deny contains msg if {
	input.target == "prod"
	not input.approval.approved == true
	msg := "promotion to prod needs an approval"
}

deny contains msg if {
	input.target == "prod"
	input.approval.approver == input.requested_by
	msg := sprintf("approver %v cannot approve their own request (four-eyes rule)", [input.approval.approver])
}
