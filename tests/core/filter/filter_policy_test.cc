// FilterPolicy against AWS's behaviour, case by case.
//
// Most cases come from a table (filter_cases.json next to this file) of SNS filter policies and
// messages whose outcomes were taken from the SNS Developer Guide and from LocalStack snapshots
// recorded against real AWS; every case cites its source. Each row becomes its own ctest test,
// so a regression names the AWS behaviour it breaks. The hand-written tests at the end cover
// what a table of single policy/message pairs cannot: reuse of one compiled policy, number
// spellings, String.Array splitting and bodies that are not JSON.
#include "core/filter/filter_policy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"
#include "core/queue/message.h"

#ifndef POSTBOX_FILTER_CASES
#error "POSTBOX_FILTER_CASES must name filter_cases.json (set by tests/CMakeLists.txt)"
#endif

namespace postbox::core {
namespace {

// ordered_json keeps the policies' keys in the order the table wrote them. That order is the
// order AWS saw, and it decides which error is reported when a policy has several problems.
using OrderedJson = nlohmann::ordered_json;

struct MatchCase {
  std::string name;       // as in the table
  std::string test_name;  // `name` as a unique gtest parameter name
  std::string problem;    // why the row could not be turned into a case; empty when it could
  FilterScope scope = FilterScope::kMessageAttributes;
  std::string policy;  // the policy text given to Compile
  MessageAttributes attributes;
  std::string body;
  std::string message;  // the attributes or body as the table wrote them, for failure output
  bool match = false;
  std::string source;
};

struct InvalidCase {
  std::string name;
  std::string test_name;
  std::string problem;
  FilterScope scope = FilterScope::kMessageAttributes;
  std::string policy;
  // AWS's error text (SetSubscriptionAttributes form), or nullopt when AWS never returned it
  // for this policy: then only the rejection itself is known, not its wording.
  std::optional<std::string> aws_message;
  std::string reason;
  std::string candidate_message;  // the engine's or an emulator's text, for failure output
};

// gtest prints parameters of failed tests; the case name is what a reader looks up.
void PrintTo(const MatchCase& c, std::ostream* os) { *os << c.name; }
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

struct CaseTable {
  std::string error;  // why the file could not be used; empty when it loaded
  std::vector<MatchCase> match_cases;
  std::vector<InvalidCase> invalid_cases;
};

// gtest accepts only [A-Za-z0-9_] in parameter names and aborts on duplicates, so sanitize and
// then number any name that is already taken.
std::string UniqueTestName(std::string_view name, std::set<std::string>* taken) {
  std::string base;
  for (char ch : name) {
    bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '_';
    base += allowed ? ch : '_';
  }
  if (base.empty()) base = "unnamed";
  std::string unique = base;
  for (int n = 2; !taken->insert(unique).second; ++n) unique = base + "_" + std::to_string(n);
  return unique;
}

// The string at `key` of `object`, or nullopt when it is absent or not a string.
std::optional<std::string> StringField(const OrderedJson& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// Reads "scope" and the policy ("policy" as JSON, or "policy_text" when the table needs text
// that is not a JSON object). Returns a problem, or "" when all was there.
std::string ReadScopeAndPolicy(const OrderedJson& row, FilterScope* scope, std::string* policy) {
  std::optional<std::string> scope_name = StringField(row, "scope");
  if (scope_name == "MessageAttributes") {
    *scope = FilterScope::kMessageAttributes;
  } else if (scope_name == "MessageBody") {
    *scope = FilterScope::kMessageBody;
  } else {
    return "scope must be MessageAttributes or MessageBody";
  }
  if (auto it = row.find("policy"); it != row.end() && !it->is_null()) {
    *policy = it->dump();
  } else if (std::optional<std::string> text = StringField(row, "policy_text")) {
    *policy = *text;
  } else {
    return "the row has neither policy nor policy_text";
  }
  return "";
}

// Turns the table's {"name": {"Type": ..., "Value": ...}} into message attributes. Binary
// values are base64 in the table and raw bytes in AttributeValue::binary_value.
std::string ReadAttributes(const OrderedJson& table, MessageAttributes* attributes) {
  if (!table.is_object()) return "attributes must be an object";
  for (const auto& [name, spec] : table.items()) {
    std::optional<std::string> type = spec.is_object() ? StringField(spec, "Type") : std::nullopt;
    std::optional<std::string> value = spec.is_object() ? StringField(spec, "Value") : std::nullopt;
    if (!type || !value) return "attribute " + name + " needs string Type and Value";
    AttributeValue attribute{*type, "", ""};
    if (attribute.is_binary()) {
      std::optional<std::string> bytes = Base64Decode(*value);
      if (!bytes) return "attribute " + name + " is Binary but its Value is not base64";
      attribute.binary_value = std::move(*bytes);
    } else {
      attribute.string_value = *value;
    }
    (*attributes)[name] = std::move(attribute);
  }
  return "";
}

MatchCase ReadMatchCase(const OrderedJson& row) {
  MatchCase c;
  c.name = StringField(row, "name").value_or("");
  c.source = StringField(row, "source").value_or("");
  c.problem = ReadScopeAndPolicy(row, &c.scope, &c.policy);
  if (!c.problem.empty()) return c;
  auto match = row.find("match");
  if (match == row.end() || !match->is_boolean()) {
    c.problem = "match must be true or false";
    return c;
  }
  c.match = match->get<bool>();
  // Rows give what was published: attributes for MessageAttributes-scope cases, the body for
  // MessageBody-scope ones. Whatever a row leaves out is sent empty.
  auto attributes = row.find("attributes");
  std::optional<std::string> body = StringField(row, "body");
  if (attributes == row.end() && !body) {
    c.problem = "the row has neither attributes nor body";
    return c;
  }
  if (attributes != row.end()) {
    c.problem = ReadAttributes(*attributes, &c.attributes);
    c.message = "attributes " + attributes->dump();
  }
  if (body) {
    c.body = *body;
    c.message += (c.message.empty() ? "body " : ", body ") + *body;
  }
  return c;
}

InvalidCase ReadInvalidCase(const OrderedJson& row) {
  InvalidCase c;
  c.name = StringField(row, "name").value_or("");
  c.reason = StringField(row, "reason").value_or("");
  c.candidate_message = StringField(row, "engine_or_emulator_message").value_or("");
  c.aws_message = StringField(row, "aws_message");
  c.problem = ReadScopeAndPolicy(row, &c.scope, &c.policy);
  return c;
}

CaseTable LoadTable() {
  CaseTable table;
  std::ifstream in(POSTBOX_FILTER_CASES);
  if (!in) {
    table.error = std::string("cannot open ") + POSTBOX_FILTER_CASES;
    return table;
  }
  OrderedJson root = OrderedJson::parse(in, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    table.error = std::string(POSTBOX_FILTER_CASES) + " is not a JSON object";
    return table;
  }
  auto match_cases = root.find("match_cases");
  auto invalid_policies = root.find("invalid_policies");
  if (match_cases == root.end() || !match_cases->is_array() || invalid_policies == root.end() ||
      !invalid_policies->is_array()) {
    table.error = "the file needs the arrays match_cases and invalid_policies";
    return table;
  }
  // A malformed row still becomes a test, one that fails naming its problem, so that one bad
  // row cannot silently shrink the suite.
  std::set<std::string> taken;
  for (const OrderedJson& row : *match_cases) {
    MatchCase c = row.is_object() ? ReadMatchCase(row) : MatchCase{};
    if (!row.is_object()) c.problem = "the row is not an object";
    c.test_name = UniqueTestName(c.name, &taken);
    table.match_cases.push_back(std::move(c));
  }
  taken.clear();
  for (const OrderedJson& row : *invalid_policies) {
    InvalidCase c = row.is_object() ? ReadInvalidCase(row) : InvalidCase{};
    if (!row.is_object()) c.problem = "the row is not an object";
    c.test_name = UniqueTestName(c.name, &taken);
    table.invalid_cases.push_back(std::move(c));
  }
  return table;
}

// Loaded once: gtest reads it to register the tests, and the tests read it again to run.
const CaseTable& LoadedTable() {
  static const CaseTable* const table = [] {
    try {
      return new CaseTable(LoadTable());
    } catch (const nlohmann::json::exception& e) {  // e.g. dump() of invalid UTF-8
      auto* failed = new CaseTable();
      failed->error = std::string("reading the cases failed: ") + e.what();
      return failed;
    }
  }();
  return *table;
}

// AWS appends "\n at [Source: ...; line: 1, column: N]" to some errors, with a column that
// depends on its parser; only the first line is part of the contract.
std::string_view FirstLine(std::string_view text) { return text.substr(0, text.find('\n')); }

// Without this an unreadable file would just produce zero parameterized tests, which passes.
TEST(FilterCaseTable, Loads) {
  const CaseTable& table = LoadedTable();
  ASSERT_EQ(table.error, "");
  EXPECT_FALSE(table.match_cases.empty());
  EXPECT_FALSE(table.invalid_cases.empty());
}

class FilterMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(FilterMatchTest, MatchesLikeAws) {
  const MatchCase& c = GetParam();
  ASSERT_EQ(c.problem, "") << "bad row in the case table";
  auto compiled = FilterPolicy::Compile(c.policy, c.scope);
  ASSERT_TRUE(compiled.ok()) << "policy " << c.policy
                             << " rejected: " << compiled.status().message()
                             << "\nsource: " << c.source;
  FilterInput input(c.attributes, c.body);
  EXPECT_EQ((*compiled)->Matches(input), c.match)
      << "policy " << c.policy << "\nmessage " << c.message << "\nsource: " << c.source;
}

INSTANTIATE_TEST_SUITE_P(Table, FilterMatchTest, testing::ValuesIn(LoadedTable().match_cases),
                         [](const testing::TestParamInfo<MatchCase>& info) {
                           return info.param.test_name;
                         });

class FilterInvalidPolicyTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(FilterInvalidPolicyTest, IsRejectedLikeAws) {
  const InvalidCase& c = GetParam();
  ASSERT_EQ(c.problem, "") << "bad row in the case table";
  auto compiled = FilterPolicy::Compile(c.policy, c.scope);
  ASSERT_FALSE(compiled.ok()) << "accepted " << c.policy << "\nexpected rejection: " << c.reason
                              << (c.candidate_message.empty()
                                      ? ""
                                      : "\nother implementations say: " + c.candidate_message);
  EXPECT_EQ(compiled.status().code(), ErrorCode::kInvalidParameter)
      << ErrorCodeName(compiled.status().code()) << ": " << compiled.status().message();
  // The texts are compared whole, prefix included: AWS words one error (nested policies in
  // MessageAttributes scope) without the usual "FilterPolicy: " part.
  if (c.aws_message) {
    // AWS appends its JSON parser's (Jackson's) description of a syntax error; postbox's
    // parser words it differently, so only the part before it must match.
    constexpr std::string_view kParseError = "failed to parse JSON.";
    std::string expected(FirstLine(*c.aws_message));
    size_t parse_error = expected.find(kParseError);
    if (parse_error != std::string::npos) expected.resize(parse_error + kParseError.size());
    EXPECT_EQ(FirstLine(compiled.status().message()).substr(0, expected.size()), expected)
        << "policy " << c.policy;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, FilterInvalidPolicyTest,
                         testing::ValuesIn(LoadedTable().invalid_cases),
                         [](const testing::TestParamInfo<InvalidCase>& info) {
                           return info.param.test_name;
                         });

// ---- Hand-written cases ----

std::shared_ptr<const FilterPolicy> MustCompile(std::string_view policy, FilterScope scope) {
  auto compiled = FilterPolicy::Compile(policy, scope);
  EXPECT_TRUE(compiled.ok()) << policy << ": " << compiled.status().message();
  if (!compiled.ok()) return nullptr;
  return *compiled;
}

bool MatchesAttributes(const FilterPolicy& policy, const MessageAttributes& attributes) {
  return policy.Matches(FilterInput(attributes, ""));
}

bool MatchesBody(const FilterPolicy& policy, std::string_view body) {
  const MessageAttributes none;
  return policy.Matches(FilterInput(none, body));
}

// A policy is compiled once per subscription and then consulted for every publish, so nothing
// from one message may leak into the answer for the next: interleave matches and misses.
TEST(FilterPolicyReuse, OneCompiledPolicyAnswersEachMessageOnItsOwn) {
  auto policy = MustCompile(R"({"store":["example_corp"],"price_usd":[{"numeric":[">",100]}]})",
                            FilterScope::kMessageAttributes);
  ASSERT_NE(policy, nullptr);
  for (int i = 0; i < 1000; ++i) {
    bool right_store = i % 2 == 0;
    bool high_price = i % 3 != 0;
    MessageAttributes attributes = {
        {"store", {"String", right_store ? "example_corp" : "other_corp", ""}},
        {"price_usd", {"Number", std::to_string(high_price ? 101 + i : i % 100), ""}}};
    EXPECT_EQ(MatchesAttributes(*policy, attributes), right_store && high_price) << "message " << i;
  }
  // A message without attributes, then a matching one again.
  EXPECT_FALSE(MatchesAttributes(*policy, {}));
  EXPECT_TRUE(MatchesAttributes(
      *policy, {{"store", {"String", "example_corp", ""}}, {"price_usd", {"Number", "150", ""}}}));

  auto body_policy = MustCompile(R"({"store":{"city":["seattle"]}})", FilterScope::kMessageBody);
  ASSERT_NE(body_policy, nullptr);
  for (int i = 0; i < 1000; ++i) {
    switch (i % 3) {
      case 0:
        EXPECT_TRUE(MatchesBody(*body_policy, R"({"store":{"city":"seattle"}})")) << i;
        break;
      case 1:
        EXPECT_FALSE(MatchesBody(*body_policy, R"({"store":{"city":"portland"}})")) << i;
        break;
      default:
        EXPECT_FALSE(MatchesBody(*body_policy, "not json")) << i;
    }
  }
}

// One publish fans out to many subscriptions: the same FilterInput, whose body is parsed once
// and cached, must give each policy the answer a fresh input would.
TEST(FilterPolicyReuse, OneMessageIsMatchedAgainstManyPolicies) {
  auto seattle = MustCompile(R"({"store":{"city":["seattle"]}})", FilterScope::kMessageBody);
  auto cheap = MustCompile(R"({"price":[{"numeric":["<",10]}]})", FilterScope::kMessageBody);
  auto has_price = MustCompile(R"({"price":[{"exists":true}]})", FilterScope::kMessageBody);
  ASSERT_NE(seattle, nullptr);
  ASSERT_NE(cheap, nullptr);
  ASSERT_NE(has_price, nullptr);
  const MessageAttributes none;
  const std::string body = R"({"store":{"city":"seattle"},"price":25})";
  FilterInput input(none, body);
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(seattle->Matches(input)) << round;
    EXPECT_FALSE(cheap->Matches(input)) << round;
    EXPECT_TRUE(has_price->Matches(input)) << round;
  }
}

// Publishes run on many threads against the same subscription; the header promises that a
// compiled policy may be matched concurrently (each thread has its own FilterInput).
TEST(FilterPolicyReuse, ConcurrentMatchesAgree) {
  auto policy =
      MustCompile(R"({"customer_interests":[{"prefix":"bas"}]})", FilterScope::kMessageAttributes);
  ASSERT_NE(policy, nullptr);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&policy, &wrong, t] {
      for (int i = 0; i < 500; ++i) {
        bool expected = (i + t) % 2 == 0;
        MessageAttributes attributes = {
            {"customer_interests", {"String", expected ? "baseball" : "rugby", ""}}};
        if (MatchesAttributes(*policy, attributes) != expected) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// SNS compares Number attributes by value, not by text ("3.015e2" matches numeric = 301.5 in
// the docs): every spelling of 300 must behave like 300 under each kind of numeric condition.
TEST(FilterPolicyNumbers, NumberAttributeSpellingsOf300CompareAs300) {
  struct PolicyCase {
    const char* policy;
    bool match;
  };
  const PolicyCase policies[] = {
      {R"({"price":[300]})", true},
      {R"({"price":[300.0]})", true},
      {R"({"price":[3e2]})", true},
      {R"({"price":[301]})", false},
      {R"({"price":[{"numeric":["=",300]}]})", true},
      {R"({"price":[{"numeric":[">=",300]}]})", true},
      {R"({"price":[{"numeric":["<=",300]}]})", true},
      {R"({"price":[{"numeric":[">",300]}]})", false},
      {R"({"price":[{"numeric":["<",300]}]})", false},
      // Five decimal digits are the documented precision.
      {R"({"price":[{"numeric":[">",299.99999,"<",300.00001]}]})", true},
      {R"({"price":[{"anything-but":[300]}]})", false},
      {R"({"price":[{"anything-but":[100,500]}]})", true},
  };
  for (const char* spelling : {"3.0e2", "300", "300.0", "3e2", "3000e-1"}) {
    MessageAttributes attributes = {{"price", {"Number", spelling, ""}}};
    for (const PolicyCase& p : policies) {
      auto policy = MustCompile(p.policy, FilterScope::kMessageAttributes);
      ASSERT_NE(policy, nullptr);
      EXPECT_EQ(MatchesAttributes(*policy, attributes), p.match)
          << "Number " << spelling << " against " << p.policy;
    }
  }
}

// "For String.Array type attributes, each element in the array is treated as a separate string
// for matching purposes": one element that matches is enough, and elements match whole.
TEST(FilterPolicyStringArray, AnyElementMatchesWhole) {
  auto policy = MustCompile(R"({"letters":["b"]})", FilterScope::kMessageAttributes);
  ASSERT_NE(policy, nullptr);
  EXPECT_TRUE(MatchesAttributes(*policy, {{"letters", {"String.Array", R"(["a","b"])", ""}}}));
  EXPECT_TRUE(MatchesAttributes(*policy, {{"letters", {"String.Array", R"(["b","a"])", ""}}}));
  EXPECT_TRUE(MatchesAttributes(*policy, {{"letters", {"String.Array", R"(["b"])", ""}}}));
  EXPECT_FALSE(MatchesAttributes(*policy, {{"letters", {"String.Array", R"(["a","c"])", ""}}}));
  EXPECT_FALSE(MatchesAttributes(*policy, {{"letters", {"String.Array", R"(["ab"])", ""}}}));
  EXPECT_FALSE(MatchesAttributes(*policy, {{"letters", {"String.Array", "[]", ""}}}));
  // Only String.Array is split: the same text in a String attribute is one value.
  EXPECT_FALSE(MatchesAttributes(*policy, {{"letters", {"String", R"(["a","b"])", ""}}}));
}

// "Filter policies for the message body assume that the message payload is a well-formed JSON
// object"; AWS delivered nothing else (LocalStack snapshots: a plain string and a JSON string).
// Attributes that would satisfy the policy are attached to show that body scope never falls
// back to them. Each policy is first shown to match a JSON body, so the misses are the body's.
TEST(FilterPolicyBody, BodyThatIsNotAJsonObjectNeverMatches) {
  struct PolicyCase {
    const char* policy;
    const char* matching_body;
  };
  const PolicyCase policies[] = {
      {R"({"customer_interests":["rugby"]})", R"({"customer_interests":"rugby"})"},
      {R"({"customer_interests":[{"prefix":"rug"}]})", R"({"customer_interests":"rugby"})"},
      {R"({"customer_interests":[{"anything-but":["tennis"]}]})",
       R"({"customer_interests":"rugby"})"},
      {R"({"customer_interests":[{"exists":true}]})", R"({"customer_interests":"rugby"})"},
      {R"({"customer_interests":[{"exists":false}]})", R"({"store":"example_corp"})"},
      {R"({"store":{"city":["seattle"]}})", R"({"store":{"city":"seattle"}})"},
  };
  const char* const not_json[] = {
      "",
      "rugby",
      "Regular string message",
      "customer_interests=rugby",
      R"({"customer_interests":"rugby")",  // truncated
      R"({customer_interests:"rugby"})",   // unquoted key
      R"("Regular string message")",       // JSON, but a string rather than an object
  };
  const MessageAttributes attributes = {{"customer_interests", {"String", "rugby", ""}},
                                        {"store", {"String", "example_corp", ""}}};
  for (const PolicyCase& p : policies) {
    auto policy = MustCompile(p.policy, FilterScope::kMessageBody);
    ASSERT_NE(policy, nullptr);
    EXPECT_TRUE(MatchesBody(*policy, p.matching_body)) << p.policy << " vs " << p.matching_body;
    for (const char* body : not_json) {
      EXPECT_FALSE(policy->Matches(FilterInput(attributes, body)))
          << p.policy << " matched body <" << body << ">";
    }
  }
}

}  // namespace
}  // namespace postbox::core
