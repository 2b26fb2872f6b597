#include "channels/raw_message.h"

#include <cctype>

#include "channels/mime_message.h"

namespace postbox::channels {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The header block's lines (without their line ends), up to the first empty line.
std::vector<std::string_view> HeaderLines(std::string_view message) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

}  // namespace

std::vector<HeaderField> ParseHeaderFields(std::string_view message) {
  std::vector<HeaderField> fields;
  for (std::string_view line : HeaderLines(message)) {
    if (line.front() == ' ' || line.front() == '\t') {  // a folded continuation
      if (!fields.empty()) {
        fields.back().value += ' ';
        fields.back().value += Trim(line);
      }
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    fields.push_back(
        {std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1)))});
  }
  return fields;
}

std::string HeaderValue(const std::vector<HeaderField>& fields, std::string_view name) {
  for (const HeaderField& f : fields) {
    if (SameName(f.name, name)) return f.value;
  }
  return "";
}

std::vector<std::string> AddressList(std::string_view value) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  int angle = 0;
  auto flush = [&] {
    std::string bare(Trim(BareAddress(Trim(current))));
    if (!bare.empty()) out.push_back(bare);
    current.clear();
  };
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\\' && quoted && i + 1 < value.size()) {
      current += value[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '<') ++angle;
    if (!quoted && c == '>' && angle > 0) --angle;
    if (c == ',' && !quoted && angle == 0) {
      flush();
      continue;
    }
    current += c;
  }
  flush();
  return out;
}

std::string PrepareForSmtp(std::string_view raw) {
  // A lone CR ends a line too: relays differ on it (the root of SMTP smuggling), so postbox
  // sends only CRLF.
  std::string normalized;
  normalized.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    normalized += raw[i] == '\r' && (i + 1 == raw.size() || raw[i + 1] != '\n') ? '\n' : raw[i];
  }
  std::string_view message = normalized;
  std::string out;
  out.reserve(message.size() + message.size() / 40);
  bool in_headers = true;
  bool skipping_bcc = false;
  size_t start = 0;
  while (start < message.size()) {
    size_t end = message.find('\n', start);
    const bool last = end == std::string_view::npos;
    if (last) end = message.size();
    std::string_view line = message.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;
    if (in_headers) {
      if (line.empty()) {
        in_headers = false;
      } else if (line.front() == ' ' || line.front() == '\t') {
        if (skipping_bcc) continue;  // the Bcc header's folded rest
      } else {
        size_t colon = line.find(':');
        skipping_bcc =
            colon != std::string_view::npos && SameName(Trim(line.substr(0, colon)), "Bcc");
        if (skipping_bcc) continue;
      }
    }
    out += line;
    if (!last) out += "\r\n";
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

}  // namespace postbox::channels
