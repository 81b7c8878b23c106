#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::apps {

/// A --config file that cannot be used; what() is "PATH:LINE: reason" (or "PATH: reason").
class ConfigFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One `key = value` setting of a configuration file.
struct ConfigEntry {
    std::string key;
    std::size_t line = 0;
};

/// What a scan of a --config file found, before CLI11 reads it.
///
/// CLI11 2.1 reads the TOML itself but reports no line numbers, silently ignores unknown keys,
/// keeps only the first of two lines with the same key and cuts a value at any '#', even
/// inside quotes. The scan rejects each of those with the file's line, so an operator never
/// runs with a setting that was quietly dropped.
class ConfigScan {
public:
    /// Reads and checks the file's shape; throws ConfigFileError.
    static ConfigScan read(const std::string& path);

    const std::string& path() const { return path_; }
    const std::vector<ConfigEntry>& entries() const { return entries_; }

    /// "PATH:LINE: " for key, or "PATH: " when the file has no such key.
    std::string where(std::string_view key) const;

    /// The key whose flag a CLI11 error message names ("--threads: ..."), or empty.
    std::string key_in_message(std::string_view message) const;

private:
    std::string path_;
    std::vector<ConfigEntry> entries_;
};

/// The value of --config in argv ("--config FILE" or "--config=FILE"), or empty.
std::string find_config_flag(int argc, const char* const* argv);

}  // namespace malfix::apps
