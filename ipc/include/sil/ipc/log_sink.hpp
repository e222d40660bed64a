#pragma once
// Where a library's remarks go (one line each, no newline): the owner of the
// program decides. sil's libraries never write to stdout or stderr by
// themselves; a host or writer given no sink drops its remarks.
#include <functional>
#include <string_view>

namespace sil {

using LogSink = std::function<void(std::string_view line)>;

}  // namespace sil
