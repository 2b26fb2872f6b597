// AddPermission / RemovePermission: statements of a topic's access policy, edited by label.
//
// AWS keeps them in the topic's Policy attribute, next to the default statement; postbox does
// the same, so GetTopicAttributes shows them and SetTopicAttributes can replace them. postbox
// stores policies but does not enforce them (any caller may do anything; README).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "core/topic/topic.h"

namespace postbox::core {

// The request's own checks, before the topic is looked up: a label of letters, digits, '-'
// and '_'; 12-digit account ids (or "*"); at least one action.
Status CheckPermissionRequest(const std::string& label, const std::vector<std::string>& accounts,
                              const std::vector<std::string>& actions);
// Appends an Allow statement with Sid `label` for `accounts` and `actions` (SNS action names
// without the "SNS:" prefix). InvalidParameter when the label is taken, an action is not an
// SNS action, or a list is empty.
Status AddPermissionStatement(Topic& topic, const std::string& label,
                              const std::vector<std::string>& accounts,
                              const std::vector<std::string>& actions);
// Removes the statement with Sid `label`; nothing to remove is not an error.
Status RemovePermissionStatement(Topic& topic, const std::string& label);

}  // namespace postbox::core
