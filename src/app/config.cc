#include "app/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string_view>

#include "channels/mime_message.h"

namespace postbox::app {
namespace {

// One row per setting: where it lives in the file, and how to store a text value.
struct Setting {
  const char* key;  // "server.listen"
  std::function<bool(Config&, const std::string&)> set;
};

bool SetInt(int& field, const std::string& value) {
  try {
    size_t used = 0;
    int v = std::stoi(value, &used);
    if (used != value.size()) return false;
    field = v;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool SetBool(bool& field, const std::string& value) {
  if (value != "true" && value != "1" && value != "false" && value != "0") return false;
  field = value == "true" || value == "1";
  return true;
}

bool SetDouble(double& field, const std::string& value) {
  try {
    size_t used = 0;
    double v = std::stod(value, &used);
    // Plain decimals only: no "inf", "nan" or hexadecimal floats.
    if (used != value.size() || !std::isfinite(v) || v < 0 ||
        value.find_first_not_of("0123456789.") != std::string::npos) {
      return false;
    }
    field = v;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Setters for the common shapes: any text, an http(s) URL (or empty), a rate (>= 0 a second).
std::function<bool(Config&, const std::string&)> Text(std::string Config::*field) {
  return [field](Config& c, const std::string& v) {
    c.*field = v;
    return true;
  };
}
std::function<bool(Config&, const std::string&)> Url(std::string Config::*field) {
  return [field](Config& c, const std::string& v) {
    c.*field = v;
    return v.empty() || v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
  };
}
std::function<bool(Config&, const std::string&)> Rate(int Config::*field) {
  return [field](Config& c, const std::string& v) {
    return SetInt(c.*field, v) && c.*field >= 0 && c.*field <= 100000;
  };
}

std::vector<Setting> Settings() {
  return {
      {"server.listen",
       [](Config& c, const std::string& v) {
         c.listen = v;
         return true;
       }},
      {"server.data_dir",
       [](Config& c, const std::string& v) {
         c.data_dir = v;
         return true;
       }},
      {"server.io_threads",
       [](Config& c, const std::string& v) { return SetInt(c.io_threads, v) && c.io_threads > 0; }},
      {"server.io_timeout_seconds",
       [](Config& c, const std::string& v) {
         return SetInt(c.io_timeout_seconds, v) && c.io_timeout_seconds > 0;
       }},
      {"server.max_connections",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_connections, v) && c.max_connections >= 0;
       }},
      {"server.max_connections_per_address",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_connections_per_address, v) && c.max_connections_per_address >= 0;
       }},
      {"server.public_url",
       [](Config& c, const std::string& v) {
         c.public_url = v;
         while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
         return v.empty() || v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
       }},
      {"storage.engine",
       [](Config& c, const std::string& v) {
         c.storage_engine = v;
         return v == "auto" || v == "log" || v == "rocksdb";
       }},
      {"storage.reserve_mib",
       [](Config& c, const std::string& v) {
         return SetInt(c.storage_reserve_mib, v) && c.storage_reserve_mib >= 0;
       }},
      {"storage.max_pending_mib",
       [](Config& c, const std::string& v) {
         return SetInt(c.storage_max_pending_mib, v) && c.storage_max_pending_mib >= 1;
       }},
      {"storage.segment_mib",
       [](Config& c, const std::string& v) {
         return SetInt(c.storage_segment_mib, v) && c.storage_segment_mib >= 1 &&
                c.storage_segment_mib <= 1024;
       }},
      {"storage.retry_interval_ms",
       [](Config& c, const std::string& v) {
         return SetInt(c.storage_retry_interval_ms, v) && c.storage_retry_interval_ms >= 10;
       }},
      {"storage.repair",
       [](Config& c, const std::string& v) {
         c.storage_repair = v == "true" || v == "1";
         return c.storage_repair || v == "false" || v == "0";
       }},
      {"aws.region",
       [](Config& c, const std::string& v) {
         c.region = v;
         return !v.empty();
       }},
      {"aws.account_id",
       [](Config& c, const std::string& v) {
         c.account_id = v;
         return v.size() == 12 && v.find_first_not_of("0123456789") == std::string::npos;
       }},
      {"auth.access_key_id",
       [](Config& c, const std::string& v) {
         c.access_key_id = v;
         return !v.empty();
       }},
      {"auth.mode",
       [](Config& c, const std::string& v) {
         c.auth_mode = v;
         return v == "dev" || v == "sigv4";
       }},
      {"outbound.allow_private",
       [](Config& c, const std::string& v) { return SetBool(c.outbound_allow_private, v); }},
      {"outbound.allow_hosts",
       [](Config& c, const std::string& v) {
         c.outbound_allow_hosts.clear();
         size_t start = 0;
         while (start <= v.size()) {
           size_t end = v.find(',', start);
           if (end == std::string::npos) end = v.size();
           std::string host = v.substr(start, end - start);
           host.erase(0, host.find_first_not_of(" \t"));
           host.erase(host.find_last_not_of(" \t") + 1);
           if (!host.empty()) c.outbound_allow_hosts.push_back(host);
           start = end + 1;
         }
         return true;
       }},
      {"auth.credentials_file", Text(&Config::auth_credentials_file)},
      {"auth.requests_per_second",
       [](Config& c, const std::string& v) {
         return SetDouble(c.auth_requests_per_second, v) && c.auth_requests_per_second >= 0;
       }},
      {"tls.listen", Text(&Config::tls_listen)},
      {"tls.cert_file", Text(&Config::tls_cert_file)},
      {"tls.key_file", Text(&Config::tls_key_file)},
      {"auth.secret_access_key",
       [](Config& c, const std::string& v) {
         c.secret_access_key = v;
         return !v.empty();
       }},
      {"sns.outbox_max_mib_per_endpoint",
       [](Config& c, const std::string& v) {
         return SetInt(c.sns_outbox_max_mib_per_endpoint, v) &&
                c.sns_outbox_max_mib_per_endpoint > 0;
       }},
      {"sqs.max_in_flight_messages",
       [](Config& c, const std::string& v) {
         return SetInt(c.sqs_max_in_flight_messages, v) && c.sqs_max_in_flight_messages > 0;
       }},
      {"sqs.max_in_flight_messages_fifo",
       [](Config& c, const std::string& v) {
         return SetInt(c.sqs_max_in_flight_messages_fifo, v) &&
                c.sqs_max_in_flight_messages_fifo > 0;
       }},
      {"sns.tls_ca_file",
       [](Config& c, const std::string& v) {
         c.sns_tls_ca_file = v;
         return v.empty() || ::access(v.c_str(), R_OK) == 0;  // a typo fails at start
       }},
      {"email.smtp_url",
       [](Config& c, const std::string& v) {
         c.email_smtp_url = v;
         return v.empty() || v.rfind("smtp://", 0) == 0 || v.rfind("smtps://", 0) == 0;
       }},
      {"email.username",
       [](Config& c, const std::string& v) {
         c.email_username = v;
         return true;
       }},
      {"email.password",
       [](Config& c, const std::string& v) {
         c.email_password = v;
         return true;  // never refused: the error message would show it
       }},
      {"email.from",
       [](Config& c, const std::string& v) {
         // "address" or "Name <address>", kept in the form headers need (a name with a comma
         // quoted), so that every mail names one sender.
         const std::string address = channels::BareAddress(v);
         if (!channels::IsValidEmailAddress(address)) return false;
         std::string name = v.substr(0, v.find('<'));
         while (!name.empty() && name.back() == ' ') name.pop_back();
         while (!name.empty() && name.front() == ' ') name.erase(0, 1);
         if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
           name = name.substr(1, name.size() - 2);
         }
         c.email_from = name.empty() || v.find('<') == std::string::npos
                            ? address
                            : channels::NamedAddress(name, address);
         return true;
       }},
      {"email.require_tls",
       [](Config& c, const std::string& v) { return SetBool(c.email_require_tls, v); }},
      {"email.tls_ca_file",
       [](Config& c, const std::string& v) {
         c.email_tls_ca_file = v;
         return v.empty() || ::access(v.c_str(), R_OK) == 0;
       }},
      {"email.require_verified_identities",
       [](Config& c, const std::string& v) {
         return SetBool(c.email_require_verified_identities, v);
       }},
      {"email.max_per_second",
       [](Config& c, const std::string& v) {
         return SetInt(c.email_max_per_second, v) && c.email_max_per_second > 0;
       }},
      {"email.max_per_day",
       [](Config& c, const std::string& v) {
         return SetInt(c.email_max_per_day, v) && c.email_max_per_day > 0 &&
                c.email_max_per_day <= 10'000'000;
       }},
      {"email.ses_failure_queue_arn",
       [](Config& c, const std::string& v) {
         c.email_ses_failure_queue_arn = v;
         return v.empty() || v.rfind("arn:aws:sqs:", 0) == 0;
       }},
      {"email.timeout_seconds",
       [](Config& c, const std::string& v) {
         return SetInt(c.email_timeout_seconds, v) && c.email_timeout_seconds > 0;
       }},
      {"sms.default_provider",
       [](Config& c, const std::string& v) {
         c.sms_default_provider = v;
         return IsSmsProvider(v) || v.empty();
       }},
      {"sms.routes",
       [](Config& c, const std::string& v) {
         c.sms_routes = v;
         return ParseSmsRoutes(v).has_value();
       }},
      {"sms.price_per_message",
       [](Config& c, const std::string& v) {
         return SetDouble(c.sms_price_per_message, v) && c.sms_price_per_message > 0;
       }},
      {"sms.failure_queue_arn",
       [](Config& c, const std::string& v) {
         c.sms_failure_queue_arn = v;
         // A standard queue: a FIFO one would need a group id the failure records lack.
         return v.empty() || (v.rfind("arn:aws:sqs:", 0) == 0 && !v.ends_with(".fifo"));
       }},
      {"sms.sens.endpoint", Url(&Config::sms_sens_endpoint)},
      {"sms.sens.service_id", Text(&Config::sms_sens_service_id)},
      {"sms.sens.access_key", Text(&Config::sms_sens_access_key)},
      {"sms.sens.secret_key", Text(&Config::sms_sens_secret_key)},
      {"sms.sens.from", Text(&Config::sms_sens_from)},
      {"sms.sens.max_per_second", Rate(&Config::sms_sens_max_per_second)},
      {"sms.twilio.endpoint", Url(&Config::sms_twilio_endpoint)},
      {"sms.twilio.account_sid", Text(&Config::sms_twilio_account_sid)},
      {"sms.twilio.auth_token", Text(&Config::sms_twilio_auth_token)},
      {"sms.twilio.from", Text(&Config::sms_twilio_from)},
      {"sms.twilio.max_per_second", Rate(&Config::sms_twilio_max_per_second)},
      {"sms.webhook.url", Url(&Config::sms_webhook_url)},
      {"sms.webhook.secret", Text(&Config::sms_webhook_secret)},
      {"sms.webhook.max_per_second", Rate(&Config::sms_webhook_max_per_second)},
      {"push.fcm.service_account_file",
       [](Config& c, const std::string& v) {
         c.push_fcm_service_account_file = v;
         return v.empty() || ::access(v.c_str(), R_OK) == 0;  // a typo fails at start
       }},
      {"push.fcm.endpoint", Url(&Config::push_fcm_endpoint)},
      {"delivery.retry_min_delay_seconds",
       [](Config& c, const std::string& v) {
         return SetInt(c.delivery_retry_min_delay_seconds, v) &&
                c.delivery_retry_min_delay_seconds >= 1 &&
                c.delivery_retry_min_delay_seconds <= 3600;
       }},
      {"delivery.retry_max_delay_seconds",
       [](Config& c, const std::string& v) {
         return SetInt(c.delivery_retry_max_delay_seconds, v) &&
                c.delivery_retry_max_delay_seconds >= 1 &&
                c.delivery_retry_max_delay_seconds <= 3600;
       }},
      {"delivery.retries",
       [](Config& c, const std::string& v) {
         return SetInt(c.delivery_retries, v) && c.delivery_retries >= 0 &&
                c.delivery_retries <= 100;
       }},
      {"metrics.max_queue_series",
       [](Config& c, const std::string& v) {
         return SetInt(c.metrics_max_queue_series, v) && c.metrics_max_queue_series >= 0;
       }},
      {"log.format",
       [](Config& c, const std::string& v) {
         c.log_format = v;
         return v == "text" || v == "json";
       }},
  };
}

std::string EnvName(const std::string& key) {
  std::string name = "POSTBOX_";
  for (char ch : key) name.push_back(ch == '.' ? '_' : char(std::toupper(uint8_t(ch))));
  return name;
}

std::string FlagName(const std::string& key) {
  std::string name = "--";
  for (char ch : key) name.push_back(ch == '.' || ch == '_' ? '-' : ch);
  return name;
}

Status Invalid(const std::string& where, const std::string& key, const std::string& value) {
  // Values that may hold a secret (a password, user:password@ in a URL) are not repeated.
  const bool secret =
      key.find("password") != std::string::npos || key.find("url") != std::string::npos ||
      key.find("secret") != std::string::npos || key.find("token") != std::string::npos ||
      key.find("key") != std::string::npos || key.find("endpoint") != std::string::npos;
  return Status(ErrorCode::kInvalidParameterValue,
                "invalid value '" + (secret ? std::string("(not shown)") : value) + "' for " + key +
                    " (" + where + ")");
}

}  // namespace

bool IsSmsProvider(const std::string& name) {
  return name == "sens" || name == "twilio" || name == "webhook";
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseSmsRoutes(
    const std::string& text) {
  std::vector<std::pair<std::string, std::string>> routes;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    start = end + 1;
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    size_t colon = item.find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string prefix = item.substr(0, colon);
    std::string provider = item.substr(colon + 1);
    if (!prefix.empty() && prefix[0] == '+') prefix.erase(0, 1);
    if (prefix.empty() || prefix.size() > 15 ||
        prefix.find_first_not_of("0123456789") != std::string::npos || !IsSmsProvider(provider)) {
      return std::nullopt;
    }
    routes.emplace_back(prefix, provider);
  }
  return routes;
}

namespace {

// The key tables at `path` ([[auth.keys]] in the config file, [[keys]] in a credentials file):
// access_key, secret_key and a 12-digit account, each required. A key is an admin of its
// account unless it has a `policy` (IAM's JSON policy language) or says admin = false (then,
// without a policy, it may do nothing). A policy that cannot be read, or admin = true beside
// a policy, stops the start: no key may end up with more than its operator meant.
Status ReadAuthKeys(const toml::table& table, const char* path, const std::string& source,
                    std::vector<Config::AuthKey>* out) {
  const toml::array* keys = table.at_path(path).as_array();
  if (keys == nullptr) return Status::Ok();
  for (const toml::node& node : *keys) {
    const toml::table* entry = node.as_table();
    Config::AuthKey key;
    std::optional<bool> admin;
    std::optional<std::string> policy_text;
    if (entry != nullptr) {
      key.access_key = entry->at_path("access_key").value_or(std::string());
      key.secret_key = entry->at_path("secret_key").value_or(std::string());
      key.account = entry->at_path("account").value_or(std::string());
      // A misspelt field or admin = "false" must not leave a key with more than was meant.
      for (const auto& [name, value] : *entry) {
        const std::string_view field = name.str();
        if (field != "access_key" && field != "secret_key" && field != "account" &&
            field != "admin" && field != "policy" && field != "requests_per_second") {
          return Status(ErrorCode::kInvalidParameterValue,
                        source + ": unknown field '" + std::string(field) + "' in [[" + path +
                            "]] (access_key, secret_key, account, admin, policy, "
                            "requests_per_second)");
        }
      }
      if (auto node = entry->at_path("requests_per_second")) {
        const std::optional<double> rate = node.value<double>();
        if (!rate || !(*rate > 0) || *rate > 1e9) {
          return Status(
              ErrorCode::kInvalidParameterValue,
              source + ": requests_per_second in [[" + path + "]] must be a positive number");
        }
        key.requests_per_second = *rate;
      }
      if (auto node = entry->at_path("admin")) {
        if (!node.is_boolean()) {
          return Status(ErrorCode::kInvalidParameterValue,
                        source + ": admin in [[" + path + "]] must be true or false");
        }
        admin = node.value_or(true);
      }
      if (auto node = entry->at_path("policy")) {
        if (!node.is_string()) {
          return Status(ErrorCode::kInvalidParameterValue, source + ": key " + key.access_key +
                                                               ": policy in [[" + path +
                                                               "]] must be a string of JSON");
        }
        policy_text = node.value_or(std::string());
      }
    }
    const bool account_ok = key.account.size() == 12 &&
                            key.account.find_first_not_of("0123456789") == std::string::npos;
    if (key.access_key.empty() || key.secret_key.empty() || !account_ok) {
      return Status(
          ErrorCode::kInvalidParameterValue,
          source + ": each [[" + path + "]] needs access_key, secret_key and a 12-digit account");
    }
    if (policy_text) {
      if (admin.value_or(false)) {
        return Status(ErrorCode::kInvalidParameterValue,
                      source + ": key " + key.access_key +
                          " is an admin and has a policy: choose one (admin = false)");
      }
      auto policy = core::policy::ParsePolicy(*policy_text, core::policy::PolicyKind::kIdentity);
      if (!policy.ok()) {
        return Status(
            ErrorCode::kInvalidParameterValue,
            source + ": the policy of key " + key.access_key + ": " + policy.status().message());
      }
      key.policy = std::move(*policy);
    }
    key.admin = admin.value_or(!policy_text.has_value());
    out->push_back(std::move(key));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Config::AuthKey>> ReadCredentialsFile(const std::string& path) {
  auto refuse = [&path](const std::string& why) {
    return Status(ErrorCode::kInvalidParameterValue, "the credentials file " + path + " " + why);
  };
  // Checked and read through one descriptor, so that the file read is the file checked.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return refuse(std::string("cannot be opened: ") + std::strerror(errno));
  struct stat st {};
  std::string text;
  Status checked = Status::Ok();
  if (fstat(fd, &st) != 0) {
    checked = refuse(std::string("cannot be read: ") + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    checked = refuse("is not a regular file");
  } else if ((st.st_mode & 077) != 0) {
    checked = refuse("may be read by other users: refused (chmod 600 " + path + ")");
  } else if (st.st_uid != geteuid() && st.st_uid != 0) {
    // Another user who owns it could add a key: only ours (or root's) is trusted.
    checked = refuse("belongs to another user (uid " + std::to_string(st.st_uid) + ")");
  } else {
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, size_t(n));
    if (n < 0) checked = refuse(std::string("cannot be read: ") + std::strerror(errno));
  }
  close(fd);
  if (!checked.ok()) return checked;
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "cannot read " + path + ": " + std::string(e.description()));
  }
  std::vector<Config::AuthKey> keys;
  POSTBOX_RETURN_IF_ERROR(ReadAuthKeys(table, "keys", path, &keys));
  return keys;
}

Result<Config> LoadConfig(const std::vector<std::string>& args, char** environ_vars) {
  Config config;
  auto settings = Settings();

  CLI::App cli("postbox serve");
  std::string config_file;
  cli.add_option("--config", config_file, "TOML configuration file");
  std::map<std::string, std::string> flags;
  for (const auto& s : settings) {
    cli.add_option(FlagName(s.key), flags[s.key], std::string("sets ") + s.key);
  }
  // Short forms for the settings everyone uses.
  cli.add_option("--listen", flags["server.listen"], "address:port to listen on");
  cli.add_option("--data-dir", flags["server.data_dir"], "data directory");
  bool dev = false;
  cli.add_flag("--dev", dev,
               "development: any credentials accepted (auth.mode = \"dev\") and deliveries "
               "to loopback addresses allowed");
  bool repair = false;
  cli.add_flag("--repair", repair,
               "start on a damaged log: keep what is readable, report what was lost");
  std::vector<std::string> argv_reversed(args.rbegin(), args.rend());
  try {
    cli.parse(argv_reversed);
  } catch (const CLI::CallForHelp&) {
    return Status(ErrorCode::kMissingParameter, cli.help());
  } catch (const CLI::ParseError& e) {
    return Status(ErrorCode::kInvalidParameterValue, e.what());
  }

  if (!config_file.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(config_file);
    } catch (const toml::parse_error& e) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "cannot read " + config_file + ": " + std::string(e.description()));
    }
    for (const auto& s : settings) {
      auto node = table.at_path(s.key);
      if (!node) continue;
      std::string value;
      if (auto str = node.value<std::string>()) {
        value = *str;
      } else if (auto num = node.value<int64_t>()) {
        value = std::to_string(*num);
      } else if (auto flag = node.value<bool>()) {
        value = *flag ? "true" : "false";
      } else if (const toml::array* list = node.as_array();
                 list != nullptr && std::string_view(s.key) == "outbound.allow_hosts") {
        // A list of texts (outbound.allow_hosts) as the comma-separated form.
        for (const toml::node& item : *list) {
          auto text = item.value<std::string>();
          if (!text || text->find(',') != std::string::npos)
            return Invalid(config_file, s.key, "?");
          value += (value.empty() ? "" : ",") + *text;
        }
      } else {
        return Invalid(config_file, s.key, "?");
      }
      if (!s.set(config, value)) return Invalid(config_file, s.key, value);
    }
    POSTBOX_RETURN_IF_ERROR(ReadAuthKeys(table, "auth.keys", config_file, &config.auth_keys));
  }
  std::map<std::string, std::string> env;
  for (char** e = environ_vars; e && *e; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& s : settings) {
    auto it = env.find(EnvName(s.key));
    if (it != env.end() && !s.set(config, it->second)) {
      return Invalid("environment " + it->first, s.key, it->second);
    }
  }
  for (const auto& s : settings) {
    const std::string& value = flags[s.key];
    if (!value.empty() && !s.set(config, value)) return Invalid("flag", s.key, value);
  }
  if (repair) config.storage_repair = true;
  if (config.tls_listen.empty() != config.tls_cert_file.empty() ||
      config.tls_listen.empty() != config.tls_key_file.empty()) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "tls.listen, tls.cert_file and tls.key_file go together: set all three");
  }
  if (dev) {
    config.auth_mode = "dev";
    config.outbound_allow_loopback = true;
  }
  return config;
}

}  // namespace postbox::app
