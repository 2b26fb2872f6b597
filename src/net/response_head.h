// ResponseHead: the status line and header block of an HTTP/1.x response, written in one
// pass into one string so that the server sends head and body with a single gather write.
//
// Beast's serializer walks a generic field container and a chain of buffer views for every
// response; postbox's responses are always a known body with a few headers, so writing them
// directly is cheaper (perf: the serializer was a few per cent of the I/O thread).
#pragma once

#include <string>

#include "wire/common/http_message.h"

namespace postbox::net {

// `version` is 10 or 11 (HTTP/1.0, 1.1). The head carries Server, Content-Type (when set),
// the response's own headers, Content-Length, and Connection when it differs from the
// version's default. CR and LF are dropped from header names and values: they would end the
// header early (response splitting).
std::string ResponseHead(const wire::HttpResponse& response, unsigned version, bool keep_alive);

}  // namespace postbox::net
