#include "core/topic/logged_endpoint.h"

#include <gtest/gtest.h>

namespace postbox::core {
namespace {

TEST(LoggedEndpoint, UrlsKeepOnlyTheirOrigin) {
  EXPECT_EQ(LoggedEndpoint("https", "https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/...");
  EXPECT_EQ(LoggedEndpoint("http", "http://127.0.0.1:8080?token=abc"), "http://127.0.0.1:8080/...");
  EXPECT_EQ(LoggedEndpoint("http", "http://user:pw@example.com/x"), "http://example.com/...");
  EXPECT_EQ(LoggedEndpoint("http", "http://user:p/w@example.com/x"), "http://example.com/...");
  EXPECT_EQ(LoggedEndpoint("https", "https://example.com"), "https://example.com");
  EXPECT_EQ(LoggedEndpoint("https", "not a url"), "(not a URL)");
}

TEST(LoggedEndpoint, PeopleAreNotNamedInFull) {
  EXPECT_EQ(LoggedEndpoint("sms", "+821012345678"), "+8210******78");
  EXPECT_EQ(LoggedEndpoint("sms", "+1234"), "*****");
  EXPECT_EQ(LoggedEndpoint("email", "kim.minsu@example.co.kr"), "k***@example.co.kr");
  EXPECT_EQ(LoggedEndpoint("email-json", "nobody"), "***");
}

TEST(LoggedEndpoint, ProviderErrorsLoseTheNumber) {
  EXPECT_EQ(MaskEndpointIn("The 'To' number +15551230001 is not valid; +15551230001", "sms",
                           "+15551230001"),
            "The 'To' number +1555*****01 is not valid; +1555*****01");
  EXPECT_EQ(MaskEndpointIn("timeout", "sms", "+15551230001"), "timeout");
}

TEST(LoggedEndpoint, ArnsAreKept) {
  const std::string arn = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1";
  EXPECT_EQ(LoggedEndpoint("application", arn), arn);
}

}  // namespace
}  // namespace postbox::core
