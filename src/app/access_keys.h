// The access keys auth.mode = "sigv4" accepts, gathered from every place an operator may put
// one, and the admin key a first start makes when there is none.
//
// Sources, all accepted together:
// - auth.access_key_id / auth.secret_access_key (account aws.account_id), unless the secret is
//   the published development one: that pair is everyone's, so it is never a key here;
// - [[auth.keys]] in the config file;
// - [[keys]] in auth.credentials_file (refused if group or others may read it);
// - <data dir>/credentials.toml, the admin key of aws.account_id made by the first start in
//   sigv4 mode that found no key anywhere (mode 0600, written and synced before the server
//   listens). Its secret is printed on that start only; delete the file to retire the key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/config.h"
#include "base/status.h"

namespace postbox::app {

struct AccessKeySet {
  std::vector<Config::AuthKey> keys;
  // Set on the start that made the data directory's admin key: what to print, once.
  std::optional<Config::AuthKey> created;
  // <data dir>/credentials.toml when its key is among `keys` (made now or at an earlier
  // start), so that every start can say that this key is still accepted.
  std::string data_dir_file;
};

// Fails on an unreadable or too readable credentials file, on a malformed key file, on an
// access key id configured twice, and when the first key cannot be written durably.
Result<AccessKeySet> GatherAccessKeys(const Config& config, const std::string& data_dir);

}  // namespace postbox::app
