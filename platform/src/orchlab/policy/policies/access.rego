# Attribute-based access to workflows.
#
# input:
#   principal: {id, roles: [..], clearance: public|internal|confidential|restricted, team}
#              roles already include those granted by an active just-in-time elevation
#   action:    start | signal | cancel | approve | terminate
#   resource:  {workflow_type, sensitivity: public|internal|confidential|restricted, team}
package orchlab.access

import rego.v1

default allow := false

levels := {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}

actions := {"start", "signal", "cancel", "approve", "terminate"}

roles := {r | some r in input.principal.roles}

allow if count(deny) == 0

deny contains msg if {
	not named
	msg := "principal.id is missing: anonymous callers are refused"
}

# An empty string is truthy in Rego: check the type and the length.
named if {
	is_string(input.principal.id)
	count(trim_space(input.principal.id)) > 0
}

deny contains msg if {
	not input.action in actions
	msg := sprintf("unknown action %v", [input.action])
}

deny contains msg if {
	not levels[input.principal.clearance]
	msg := sprintf("unknown clearance %v", [input.principal.clearance])
}

deny contains msg if {
	not levels[input.resource.sensitivity]
	msg := sprintf("unknown data sensitivity %v", [input.resource.sensitivity])
}

deny contains msg if {
	levels[input.principal.clearance] < levels[input.resource.sensitivity]
	msg := sprintf("%v has clearance %v, below the %v data of %v", [input.principal.id, input.principal.clearance, input.resource.sensitivity, input.resource.workflow_type])
}

# Starting and signalling: the owning team's engineers, or operators.
deny contains msg if {
	input.action in {"start", "signal"}
	not "operator" in roles
	not same_team_engineer
	msg := sprintf("%v may not %v %v: needs role engineer in team %v, or operator", [input.principal.id, input.action, input.resource.workflow_type, input.resource.team])
}

# Cancelling and terminating: operators only.
deny contains msg if {
	input.action in {"cancel", "terminate"}
	not "operator" in roles
	msg := sprintf("%v may not %v %v: needs role operator", [input.principal.id, input.action, input.resource.workflow_type])
}

# Approving: approvers only; restricted data also needs an approver from the owning team.
deny contains msg if {
	input.action == "approve"
	not "approver" in roles
	msg := sprintf("%v may not approve %v: needs role approver", [input.principal.id, input.resource.workflow_type])
}

deny contains msg if {
	input.action == "approve"
	input.resource.sensitivity == "restricted"
	input.principal.team != input.resource.team
	msg := sprintf("restricted %v needs an approver from team %v", [input.resource.workflow_type, input.resource.team])
}

same_team_engineer if {
	"engineer" in roles
	input.principal.team == input.resource.team
}
