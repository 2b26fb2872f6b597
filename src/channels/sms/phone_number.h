// Phone numbers as SNS takes them: E.164 ("+" and up to 15 digits, no spaces), and the parts
// a provider needs (the country calling code, the national number).
#pragma once

#include <string>
#include <string_view>

namespace postbox::channels {

// "+" then 2 to 15 digits, the first not 0: what SNS accepts for PhoneNumber and sms endpoints.
bool IsE164(std::string_view number);

// The country calling code of an E.164 number ("+821012345678" -> "82"). ITU's codes form a
// prefix code (no code is the start of another), so the length follows from the first digits.
// Requires IsE164(number).
std::string CountryCallingCode(std::string_view number);

// The digits after the country calling code ("+821012345678" -> "1012345678").
std::string NationalNumber(std::string_view number);

}  // namespace postbox::channels
