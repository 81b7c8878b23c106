#include "apps/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace malfix::apps {
namespace {

std::string_view trim(std::string_view text) {
    const std::size_t begin = text.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos) {
        return {};
    }
    const std::size_t end = text.find_last_not_of(" \t\r");
    return text.substr(begin, end - begin + 1);
}

bool valid_key(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

/// Checks the quoted strings of a value: every '"' closed, no '#' inside one (CLI11 would cut
/// the value there) and nothing but a comment after the value. Returns a reason or empty.
std::string check_value(std::string_view value) {
    bool quoted = false;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (c == '#' && quoted) {
            return "'#' inside a quoted value is not supported (it starts a comment)";
        } else if (c == '#') {
            return {};
        }
    }
    return quoted ? "unterminated string" : "";
}

}  // namespace

ConfigScan ConfigScan::read(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw ConfigFileError(path + ": cannot open: " + std::strerror(errno));
    }
    ConfigScan scan;
    scan.path_ = path;
    std::string text;
    std::size_t number = 0;
    auto fail = [&](std::size_t line, const std::string& reason) {
        throw ConfigFileError(path + ":" + std::to_string(line) + ": " + reason);
    };
    while (std::getline(in, text)) {
        ++number;
        const std::string_view line = trim(text);
        if (line.empty() || line.front() == '#' || line.front() == ';') {
            continue;
        }
        if (line.front() == '[') {
            fail(number, "tables ([section]) are not used: write every key at the top level");
        }
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            fail(number, "expected key = value");
        }
        std::string_view raw_key = trim(line.substr(0, eq));
        if (raw_key.size() >= 2 && raw_key.front() == '"' && raw_key.back() == '"') {
            raw_key = raw_key.substr(1, raw_key.size() - 2);
        }
        if (!valid_key(raw_key)) {
            fail(number, "bad key '" + std::string(raw_key) + "'");
        }
        const std::string key(raw_key);  // text is reused below for the lines of a list
        const std::size_t first_line = number;
        std::string value(trim(line.substr(eq + 1)));
        if (value.empty() || value.front() == '#') {
            fail(number, "key '" + key + "' has no value");
        }
        // A list may span lines, as in TOML. CLI11 reads on until a line ends with ']' and
        // keeps comments of those lines as values, so a comment there is an error here.
        bool open_list =
            value.front() == '[' && value.substr(0, value.find('#')).find(']') == std::string::npos;
        while (open_list) {
            if (!std::getline(in, text)) {
                fail(first_line, "list of '" + key + "' is never closed with ']'");
            }
            ++number;
            const std::string_view more = trim(text);
            if (more.find('#') != std::string_view::npos) {
                fail(number, "no comments inside a list that spans lines (key '" + key + "')");
            }
            value += ' ';
            value += more;
            open_list = more.empty() || more.back() != ']';
        }
        if (const std::string reason = check_value(value); !reason.empty()) {
            fail(first_line, "key '" + key + "': " + reason);
        }
        for (const ConfigEntry& seen : scan.entries_) {
            if (seen.key == key) {
                fail(first_line, "key '" + key + "' is already set on line " +
                                     std::to_string(seen.line) +
                                     " (give several values as a list: [\"a\", \"b\"])");
            }
        }
        scan.entries_.push_back({key, first_line});
    }
    return scan;
}

std::string ConfigScan::where(std::string_view key) const {
    for (const ConfigEntry& entry : entries_) {
        if (entry.key == key) {
            return path_ + ":" + std::to_string(entry.line) + ": ";
        }
    }
    return path_ + ": ";
}

std::string ConfigScan::key_in_message(std::string_view message) const {
    std::string best;
    for (const ConfigEntry& entry : entries_) {
        const std::string flag = "--" + entry.key;
        for (std::size_t at = message.find(flag); at != std::string_view::npos;
             at = message.find(flag, at + 1)) {
            const std::size_t end = at + flag.size();
            const bool whole =
                end == message.size() || !(std::isalnum(static_cast<unsigned char>(message[end])) ||
                                           message[end] == '-' || message[end] == '_');
            if (whole && entry.key.size() > best.size()) {
                best = entry.key;
            }
        }
    }
    return best;
}

std::string find_config_flag(int argc, const char* const* argv) {
    std::string found;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--config" && i + 1 < argc) {
            found = argv[++i];
        } else if (arg.starts_with("--config=")) {
            found = std::string(arg.substr(9));
        }
    }
    return found;
}

}  // namespace malfix::apps
