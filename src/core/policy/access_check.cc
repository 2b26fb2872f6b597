#include "core/policy/access_check.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace postbox::core::policy {
namespace {

bool SameChar(char a, char b, bool ignore_case) {
  if (!ignore_case) return a == b;
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool EqualText(std::string_view a, std::string_view b, bool ignore_case) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
           return SameChar(x, y, ignore_case);
         });
}

// arn:partition:service:region:account:resource (the resource part may hold more ':').
std::optional<std::array<std::string_view, 6>> ArnParts(std::string_view arn) {
  std::array<std::string_view, 6> parts;
  for (size_t i = 0; i < 5; ++i) {
    const size_t colon = arn.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    parts[i] = arn.substr(0, colon);
    arn.remove_prefix(colon + 1);
  }
  parts[5] = arn;
  if (parts[0] != "arn") return std::nullopt;
  return parts;
}

// ArnEquals and ArnLike: each of the six parts matched on its own, so a '*' never spans ':'.
bool ArnMatch(std::string_view pattern, std::string_view arn) {
  auto want = ArnParts(pattern);
  auto have = ArnParts(arn);
  if (!want || !have) return false;
  for (size_t i = 0; i < 6; ++i) {
    if (!WildcardMatch((*want)[i], (*have)[i], false)) return false;
  }
  return true;
}

// The value of a condition key for this request; nullopt when the request has none.
std::optional<std::string_view> ConditionValue(const Caller& caller, const std::string& key) {
  if (key == "aws:sourcearn") {
    if (!caller.source_arn.empty()) return caller.source_arn;
  } else if (key == "aws:sourceaccount" || key == "aws:sourceowner") {
    if (!caller.source_arn.empty()) return ArnAccount(caller.source_arn);
  } else if (key == "aws:principalaccount") {
    if (!caller.account.empty()) return caller.account;
  } else if (key == "aws:securetransport") {
    return caller.secure_transport ? std::string_view("true") : std::string_view("false");
  }
  return std::nullopt;
}

bool ValueMatches(Condition::Operator op, std::string_view expected, std::string_view actual) {
  using Op = Condition::Operator;
  switch (op) {
    case Op::kStringEquals:
    case Op::kStringNotEquals:
      return expected == actual;
    case Op::kStringEqualsIgnoreCase:
    case Op::kStringNotEqualsIgnoreCase:
    case Op::kBool:
      return EqualText(expected, actual, true);
    case Op::kStringLike:
    case Op::kStringNotLike:
      return WildcardMatch(expected, actual, false);
    case Op::kArnEquals:
    case Op::kArnNotEquals:
    case Op::kArnLike:
    case Op::kArnNotLike:
      return ArnMatch(expected, actual);
    case Op::kNull:
      return false;  // handled by the caller
  }
  return false;
}

bool Negated(Condition::Operator op) {
  using Op = Condition::Operator;
  return op == Op::kStringNotEquals || op == Op::kStringNotEqualsIgnoreCase ||
         op == Op::kStringNotLike || op == Op::kArnNotEquals || op == Op::kArnNotLike;
}

bool ConditionHolds(const Condition& condition, const Caller& caller) {
  const auto actual = ConditionValue(caller, condition.key);
  if (condition.op == Condition::Operator::kNull) {
    // {"Null": {"aws:SourceArn": "true"}}: the key is absent.
    const bool want_absent = EqualText(condition.values.front(), "true", true);
    return want_absent == !actual.has_value();
  }
  if (!actual) {
    // IAM: a missing key fails a test, except ...IfExists and the negated operators.
    return condition.if_exists || Negated(condition.op);
  }
  const bool any = std::any_of(
      condition.values.begin(), condition.values.end(),
      [&](const std::string& expected) { return ValueMatches(condition.op, expected, *actual); });
  return Negated(condition.op) ? !any : any;
}

// `account_grants`: whether naming the caller's account lets the caller in. Across accounts
// it does (the owner trusts that account, whose own policies decide the rest). Within the
// resource's own account it does not: IAM reads such an Allow as leaving the decision to
// the key's own policy, so that a narrow key does not gain what the account was granted. A
// Deny naming the account applies either way.
bool PrincipalMatches(const Statement& statement, const Caller& caller, bool account_grants) {
  const Principal& principal = statement.principal;
  if (principal.everyone) return true;
  if (!caller.account.empty()) {
    const bool named = std::find(principal.accounts.begin(), principal.accounts.end(),
                                 caller.account) != principal.accounts.end();
    return named && (account_grants || statement.effect == Effect::kDeny);
  }
  return std::find(principal.services.begin(), principal.services.end(), caller.service) !=
         principal.services.end();
}

bool StatementApplies(const Statement& statement, const Caller& caller, const Target& target,
                      bool account_grants) {
  const bool action_listed =
      std::any_of(statement.actions.begin(), statement.actions.end(),
                  [&](const std::string& a) { return WildcardMatch(a, target.action, true); });
  if (action_listed == statement.not_action) return false;
  const bool resource_listed =
      std::any_of(statement.resources.begin(), statement.resources.end(),
                  [&](const std::string& r) { return WildcardMatch(r, target.resource, false); });
  if (resource_listed == statement.not_resource) return false;
  if (statement.has_principal && !PrincipalMatches(statement, caller, account_grants)) {
    return false;
  }
  return std::all_of(statement.conditions.begin(), statement.conditions.end(),
                     [&](const Condition& c) { return ConditionHolds(c, caller); });
}

enum class Verdict { kNone, kAllow, kDeny };

Verdict Evaluate(const Document* document, const Caller& caller, const Target& target,
                 bool account_grants = true) {
  if (document == nullptr) return Verdict::kNone;
  Verdict verdict = Verdict::kNone;
  for (const Statement& statement : document->statements) {
    if (!StatementApplies(statement, caller, target, account_grants)) continue;
    if (statement.effect == Effect::kDeny) return Verdict::kDeny;
    verdict = Verdict::kAllow;
  }
  return verdict;
}

}  // namespace

std::string_view ArnAccount(std::string_view arn) {
  auto parts = ArnParts(arn);
  return parts ? (*parts)[4] : std::string_view();
}

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case) {
  // Greedy matching with one backtrack point (the last '*'): linear in practice, and at
  // worst pattern length times text length, never exponential.
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || SameChar(pattern[p], text[t], ignore_case))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Decision Authorize(const Caller& caller, const Target& target) {
  // A service acts for one of its resources: within that resource's account postbox lets it
  // in unless denied (AWS would want the queue policy even there; see docs/authorization.md).
  const std::string_view caller_account =
      caller.account.empty() ? ArnAccount(caller.source_arn) : caller.account;
  const bool same_account =
      target.resource_account.empty() || target.resource_account == caller_account;
  const Verdict own = caller.admin ? Verdict::kAllow : Evaluate(caller.policy, caller, target);
  const Verdict resource =
      Evaluate(target.resource_policy, caller, target, /*account_grants=*/!same_account);
  if (own == Verdict::kDeny || resource == Verdict::kDeny) return Decision::kExplicitDeny;
  if (!caller.service.empty()) {
    const bool trusted =
        same_account && (caller.acting_for.empty() || caller.acting_for == target.resource_account);
    return trusted || resource == Verdict::kAllow ? Decision::kAllowed : Decision::kImplicitDeny;
  }
  const bool allowed = same_account ? (own == Verdict::kAllow || resource == Verdict::kAllow)
                                    : (own == Verdict::kAllow && resource == Verdict::kAllow);
  return allowed ? Decision::kAllowed : Decision::kImplicitDeny;
}

}  // namespace postbox::core::policy
