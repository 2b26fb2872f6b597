// How an SNS message becomes an FCM HTTP v1 message object (without its "token").
//
// With MessageStructure=json, the "GCM" entry is itself JSON text, in either of SNS's forms:
// {"fcmV1Message": {"message": {...}}} is taken as it is (FCM v1's own shape), and the legacy
// {"notification": {...}, "data": {...}, ...} is translated: title, body and image stay in
// the notification, its other fields (sound, icon, click_action, ...) move to the Android
// notification, data values become strings (FCM v1 takes only strings), time_to_live and
// priority become Android settings. Without a GCM entry the text (the default entry, or the
// whole message) is shown as the notification's body and also sent as data "default", where
// apps written for SNS look for it.
#pragma once

#include <string>

#include "base/status.h"

namespace postbox::channels {

// `gcm_entry`: the GCM entry's text when the publisher gave one (else empty); `text`: the
// message for every other case.
Result<std::string> FcmMessageFromSns(const std::string& gcm_entry, const std::string& text);

}  // namespace postbox::channels
