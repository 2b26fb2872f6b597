#include "channels/sms/phone_number.h"

#include <algorithm>
#include <array>

namespace postbox::channels {
namespace {

// ITU-T E.164 country calling codes of one or two digits; every other code has three.
constexpr std::array<std::string_view, 2> kOneDigit = {"1", "7"};
constexpr std::array<std::string_view, 44> kTwoDigits = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"};

}  // namespace

bool IsE164(std::string_view number) {
  if (number.size() < 3 || number.size() > 16 || number[0] != '+' || number[1] == '0') {
    return false;
  }
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string CountryCallingCode(std::string_view number) {
  std::string_view digits = number.substr(1);
  for (std::string_view code : kOneDigit) {
    if (digits.substr(0, 1) == code) return std::string(code);
  }
  for (std::string_view code : kTwoDigits) {
    if (digits.substr(0, 2) == code) return std::string(code);
  }
  return std::string(digits.substr(0, std::min<size_t>(3, digits.size())));
}

std::string NationalNumber(std::string_view number) {
  return std::string(number.substr(1 + CountryCallingCode(number).size()));
}

}  // namespace postbox::channels
