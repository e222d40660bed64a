#pragma once
// Which names a message's fields may have. A field becomes an attribute and
// a keyword argument of the message's class in the harness, so a name that
// class already has (ID, to_bytes, zero, ...) would silently shadow it or be
// shadowed, and a Python keyword (from, lambda, pass, ...) could not be
// written at all. The catalogue refuses both when the system compiles, in
// the user's build; the Python package applies the same list to a catalogue
// a peer sends (python/sil/catalogue.py, which a test holds to this list).
#include <algorithm>
#include <cstddef>
#include <string_view>

#include "sil/ipc/message.hpp"

namespace sil::ipc {

inline constexpr std::string_view kReservedFieldNames[] = {
    // What a message class has besides its fields (python/src/message_class.hpp, sil/catalogue.py).
    "ID", "SIZE", "NAME", "INFO", "to_bytes", "from_bytes", "fields", "zero",
    // Python's keywords (keyword.kwlist).
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield"};

constexpr bool usable_field_name(std::string_view name) noexcept {
  return !name.empty() && name.front() != '_' &&
         std::find(std::begin(kReservedFieldNames), std::end(kReservedFieldNames), name) ==
             std::end(kReservedFieldNames);
}

// Every field of T has a usable name, and no two share one.
template <Message T>
consteval bool field_names_usable() {
  std::string_view names[std::max<std::size_t>(field_count<T>(), 1)]{};
  std::size_t n = 0;
  bool ok = true;
  for_each_field<T>([&](auto f, std::size_t) {
    ok = ok && usable_field_name(f.name) && std::find(names, names + n, f.name) == names + n;
    names[n++] = f.name;
  });
  return ok;
}

}  // namespace sil::ipc
