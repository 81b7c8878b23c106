#include "intel/feed_loader.hpp"

#include "intel/trail_parser.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

using namespace malfix::intel;
namespace fs = std::filesystem;

namespace {

const fs::path kTrails = fs::path(MALFIX_TEST_DATA) / "trails";

// A scratch directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() / ("malfix-intel-test-" + std::to_string(::getpid()) +
                                             "-" + std::to_string(counter++));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    fs::path write(const fs::path& relative, std::string_view text) const {
        const fs::path file = path_ / relative;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::uint32_t v4(std::string_view text) {
    return parse_ipv4(text).value();
}

bool has_problem(const LoadReport& report, std::string_view needle) {
    return std::any_of(report.problems.begin(), report.problems.end(),
                       [&](const std::string& p) { return p.find(needle) != std::string::npos; });
}

}  // namespace

TEST_CASE("info comes from the file name and its category folder", "[intel][loader]") {
    CHECK(trail_file_info("trails/static/malware/zeus.txt") == "zeus (malware)");
    CHECK(trail_file_info("trails/static/malicious/bad_proxy.txt") == "bad proxy (malicious)");
    CHECK(trail_file_info("trails/static/suspicious/domain.txt") == "domain (suspicious)");
    CHECK(trail_file_info("trails/static/mass_scanner.txt") == "mass scanner");
    CHECK(trail_file_info("trails/static/mass_scanner_cidr.txt") == "mass scanner");
    CHECK(trail_file_info("trails/custom/dprk.txt") == "dprk");
    CHECK(trail_file_reference("/x/trails/static/malware/zeus.txt") == "(static)");
    CHECK(trail_file_reference("/x/trails/static/mass_scanner.txt") == "(static)");
    CHECK(trail_file_reference("/x/trails/custom/dprk.txt") == "(custom)");
    CHECK(trail_file_reference("/x/mine/extra.txt") == "(custom)");
}

TEST_CASE("the mini Maltrail tree loads with info and reference per file",
          "[intel][loader][maltrail]") {
    FeedLoader loader;
    loader.add_maltrail_dir(kTrails);
    const auto snap = loader.build();
    const LoadReport& report = loader.report();
    REQUIRE(report.feeds.size() == 1);
    CHECK(report.files == 13);
    CHECK(report.feeds[0].indicators == snap->size());
    CHECK(snap->size() > 5000);

    const DomainMatch zeus = snap->find_domain("aefalcon.com");
    REQUIRE(zeus);
    CHECK(zeus.indicator->info == "zeus (malware)");
    CHECK(zeus.indicator->reference == "(static)");

    const Indicator* scanner = snap->find_ipv4(v4("129.82.138.12"));
    REQUIRE(scanner != nullptr);
    CHECK(scanner->info == "mass scanner");

    const Indicator* scanner_net = snap->find_ipv4(v4("5.63.151.77"));
    REQUIRE(scanner_net != nullptr);
    CHECK(scanner_net->kind == IndicatorKind::kCidr);
    CHECK(scanner_net->trail == "5.63.151.0/24");
    CHECK(scanner_net->info == "mass scanner");

    const Indicator* dprk = snap->find_ipv4(v4("175.45.177.138"));
    REQUIRE(dprk != nullptr);
    CHECK(dprk->info == "dprk");
    CHECK(dprk->reference == "(custom)");

    const Indicator* smbghost =
        snap->find_ipv6_port(parse_ipv6("fe80::bdd9:fd11:ea3f:a4").value(), 135);
    REQUIRE(smbghost != nullptr);
    CHECK(smbghost->info == "powershell smbghost (malware)");

    const Indicator* binaryedge = snap->find_ipv6(parse_ipv6("2400:6180:0:d0::1008:2001").value());
    REQUIRE(binaryedge != nullptr);
    CHECK(binaryedge->info == "mass scanner");

    const DomainMatch tld = snap->find_domain("a.b.xyz");
    REQUIRE(tld);
    CHECK(tld.indicator->info == "domain (suspicious)");
    CHECK(tld.prefix_length == 3);
}

TEST_CASE("bad lines in the real trails are counted with file and line", "[intel][loader]") {
    FeedLoader loader;
    loader.add_maltrail_dir(kTrails / "static");
    loader.build();
    const LoadReport& report = loader.report();
    REQUIRE(report.feeds.size() == 1);
    CHECK(report.feeds[0].bad_lines >= 1);
    CHECK(has_problem(report, "apt_boteam.txt:15: more than one port"));
    // URL trails such as "http://evil/path" or "/gate.php" are skipped, not bad.
    CHECK(report.feeds[0].skipped_lines > 0);
}

TEST_CASE("a static directory alone, or a single file, can be loaded", "[intel][loader]") {
    FeedLoader loader;
    loader.add_maltrail_dir(kTrails / "static" / "malware");
    loader.add_maltrail_dir(kTrails / "custom" / "dprk.txt");
    const auto snap = loader.build();
    REQUIRE(loader.report().feeds.size() == 2);
    CHECK(loader.report().feeds[1].indicators == 1);
    CHECK(snap->find_domain("aefalcon.com").indicator->info == "zeus (malware)");
    CHECK(snap->find_ipv4(v4("175.45.177.138"))->reference == "(custom)");
    CHECK(snap->find_ipv4(v4("129.82.138.12")) == nullptr);
}

TEST_CASE("comments, trailing comments, URLs, bad lines and duplicates in one file",
          "[intel][loader]") {
    TempDir dir;
    const fs::path file = dir.write("static/malware/test_family.txt",
                                    "# Copyright line\n"
                                    "\n"
                                    "evil.com # trailing comment\n"
                                    "Evil.COM\n"
                                    "1.2.3.4\t# tab then comment\n"
                                    "evil.com/gate.php\n"
                                    "http://evil.org/\n"
                                    "300.1.2.3\n"
                                    "bad_label..com\n"
                                    "backdates[0-9]{1,2}\\.(com|net)\n"
                                    "1.2.3.4:70000\n");
    FeedLoader loader;
    loader.add_maltrail_dir(dir.path());
    const auto snap = loader.build();
    const FeedInfo& feed = loader.report().feeds.at(0);
    CHECK(feed.indicators == 3);  // evil.com, 1.2.3.4, evil.org
    CHECK(feed.duplicates == 1);
    CHECK(feed.skipped_lines == 2);
    CHECK(feed.bad_lines == 3);
    CHECK(has_problem(loader.report(), "test_family.txt:8: bad IPv4 address"));
    CHECK(has_problem(loader.report(), "test_family.txt:9: empty label"));
    CHECK(has_problem(loader.report(), "test_family.txt:11: bad port"));
    CHECK(snap->find_domain("evil.com").indicator->info == "test family (malware)");
    CHECK(snap->find_domain("evil.org"));
}

TEST_CASE("only the first problems of a feed are kept but all are counted", "[intel][loader]") {
    TempDir dir;
    std::string text;
    for (int i = 0; i < 25; ++i) {
        text += "999.0.0." + std::to_string(i) + "\n";
    }
    FeedLoader loader;
    loader.add_trail_file(dir.write("many_bad.txt", text));
    loader.build();
    CHECK(loader.report().feeds.at(0).bad_lines == 25);
    CHECK(loader.report().problems.size() == FeedLoader::kProblemsPerFeed);
}

TEST_CASE("custom trails win over static duplicates", "[intel][loader][duplicates]") {
    TempDir dir;
    dir.write("static/malware/zeus.txt", "evil.com\n");
    dir.write("static/suspicious/domain.txt", "evil.com\nsus.com\n");
    dir.write("custom/mine.txt", "evil.com\n");
    FeedLoader loader;
    loader.add_maltrail_dir(dir.path());
    const auto snap = loader.build();
    const Indicator* hit = snap->find_domain("evil.com").indicator;
    REQUIRE(hit != nullptr);
    CHECK(hit->info == "mine");
    CHECK(hit->reference == "(custom)");
    CHECK(loader.report().feeds.at(0).duplicates == 2);
    CHECK(snap->find_domain("sus.com").indicator->info == "domain (suspicious)");
}

TEST_CASE("trails.csv gives info and reference per line", "[intel][loader][csv]") {
    TempDir dir;
    const fs::path csv = dir.write("trails.csv",
                                   "evil.com,zeus (malware),(static)\n"
                                   "1.2.3.4:8080,\"proxy, open (suspicious)\",\"abuse.ch, (+2)\"\n"
                                   "\"quoted.net\",\"say \"\"hi\"\"\",(custom)\r\n"
                                   "only-trail.com\n"
                                   "evil.com/x.php,url (malware),(static)\n"
                                   "300.1.1.1,bad,(static)\n");
    FeedLoader loader;
    loader.add_trails_csv(csv);
    const auto snap = loader.build();
    const FeedInfo& feed = loader.report().feeds.at(0);
    CHECK(feed.indicators == 3);
    CHECK(feed.bad_lines == 2);
    CHECK(feed.skipped_lines == 1);
    CHECK(snap->find_domain("evil.com").indicator->info == "zeus (malware)");
    const Indicator* proxy = snap->find_ipv4_port(v4("1.2.3.4"), 8080);
    REQUIRE(proxy != nullptr);
    CHECK(proxy->info == "proxy, open (suspicious)");
    CHECK(proxy->reference == "abuse.ch, (+2)");
    CHECK(snap->find_domain("quoted.net").indicator->info == "say \"hi\"");
}

TEST_CASE("the real whitelist suppresses names below it and addresses in it",
          "[intel][loader][whitelist]") {
    TempDir dir;
    dir.write("static/malware/fake.txt",
              "google.com\nwww.l.google.com\n127.0.0.1\n35.190.247.7\nevil.com\n");
    LoadOptions options;
    options.intel_paths.push_back(dir.path());
    options.whitelist_paths.push_back(kTrails / "whitelist.txt");
    const LoadResult result = load_snapshot(options);
    CHECK_FALSE(result.snapshot->find_domain("google.com"));
    CHECK_FALSE(result.snapshot->find_domain("l.google.com"));
    CHECK(result.snapshot->find_ipv4(v4("127.0.0.1")) == nullptr);
    CHECK(result.snapshot->find_ipv4(v4("35.190.247.7")) == nullptr);
    CHECK(result.snapshot->find_domain("evil.com"));
    CHECK(result.snapshot->size() == 1);
    REQUIRE(result.report.whitelists.size() == 1);
    CHECK(result.report.whitelists[0].indicators > 3000);
    CHECK(result.report.feeds.at(0).whitelisted == 4);
}

TEST_CASE("load_snapshot detects directories, CSV and plain files", "[intel][loader]") {
    TempDir dir;
    dir.write("tree/static/malware/a.txt", "a.com\n");
    const fs::path csv = dir.write("t.csv", "b.com,b (malware),(static)\n");
    const fs::path plain = dir.write("c.list", "c.com\n");
    LoadOptions options;
    options.intel_paths = {dir.path() / "tree", csv, plain};
    const LoadResult result = load_snapshot(options);
    CHECK(result.report.feeds.size() == 3);
    CHECK(result.snapshot->find_domain("a.com").indicator->info == "a (malware)");
    CHECK(result.snapshot->find_domain("b.com").indicator->info == "b (malware)");
    CHECK(result.snapshot->find_domain("c.com").indicator->info == "c");
    CHECK(result.snapshot->find_domain("c.com").indicator->reference == "(custom)");
}

TEST_CASE("unreadable paths stop start-up with the path in the message", "[intel][loader]") {
    TempDir dir;
    LoadOptions missing;
    missing.intel_paths.push_back(dir.path() / "nope");
    CHECK_THROWS_WITH(load_snapshot(missing), Catch::Contains("nope"));

    LoadOptions missing_whitelist;
    missing_whitelist.whitelist_paths.push_back(dir.path() / "no-whitelist.txt");
    CHECK_THROWS_AS(load_snapshot(missing_whitelist), std::runtime_error);

    fs::create_directories(dir.path() / "empty");
    LoadOptions empty;
    empty.intel_paths.push_back(dir.path() / "empty");
    CHECK_THROWS_WITH(load_snapshot(empty), Catch::Contains("no *.txt trail files"));
}
