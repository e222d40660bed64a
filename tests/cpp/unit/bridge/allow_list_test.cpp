// The allow list: parsing a range and matching senders against it.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>

#include "sil/bridge/allow_list.hpp"

namespace sil::bridge {
namespace {

std::uint32_t ip(const char* dotted) {
  in_addr address{};
  EXPECT_EQ(::inet_pton(AF_INET, dotted, &address), 1) << dotted;
  return address.s_addr;
}

Cidr cidr(const char* text) {
  auto parsed = parse_cidr(text);
  if (const auto* why = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << *why;
    return {};
  }
  return std::get<Cidr>(parsed);
}

TEST(AllowList, AnEmptyListAllowsEveryone) {
  const AllowList list;
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(list.allows(ip("203.0.113.9")));
  EXPECT_TRUE(list.allows(0));
}

TEST(AllowList, ARangeMatchesExactlyItsAddresses) {
  AllowList list;
  ASSERT_TRUE(list.add(cidr("192.168.4.0/22")));
  EXPECT_TRUE(list.allows(ip("192.168.4.0")));
  EXPECT_TRUE(list.allows(ip("192.168.7.255")));
  EXPECT_FALSE(list.allows(ip("192.168.3.255")));
  EXPECT_FALSE(list.allows(ip("192.168.8.0")));
  EXPECT_FALSE(list.allows(ip("10.0.0.1")));
}

TEST(AllowList, ASenderInAnyRangeIsAllowed) {
  AllowList list;
  ASSERT_TRUE(list.add(cidr("127.0.0.2")));
  ASSERT_TRUE(list.add(cidr("10.0.0.0/8")));
  EXPECT_TRUE(list.allows(ip("127.0.0.2")));
  EXPECT_FALSE(list.allows(ip("127.0.0.3")));
  EXPECT_TRUE(list.allows(ip("10.9.8.7")));
}

TEST(AllowList, SlashZeroAllowsEveryoneAndSlash32OneAddress) {
  AllowList all;
  ASSERT_TRUE(all.add(cidr("0.0.0.0/0")));
  EXPECT_TRUE(all.allows(ip("255.255.255.255")));
  AllowList one;
  ASSERT_TRUE(one.add(cidr("127.0.0.1/32")));
  EXPECT_TRUE(one.allows(ip("127.0.0.1")));
  EXPECT_FALSE(one.allows(ip("127.0.0.0")));
}

TEST(AllowList, RefusesARangeBeyondItsCapacity) {
  AllowList list;
  for (std::size_t i = 0; i < AllowList::kCapacity; ++i) ASSERT_TRUE(list.add(cidr("10.0.0.0/8")));
  EXPECT_FALSE(list.add(cidr("11.0.0.0/8")));
  EXPECT_EQ(list.size(), AllowList::kCapacity);
  EXPECT_FALSE(list.allows(ip("11.0.0.1")));
}

TEST(Cidr, PrintsAsParsed) {
  for (const char* text : {"0.0.0.0/0", "10.0.0.0/8", "172.16.0.0/12", "192.168.1.128/25", "127.0.0.1/32"}) {
    EXPECT_EQ(to_string(cidr(text)), text);
  }
  EXPECT_EQ(to_string(cidr("8.8.8.8")), "8.8.8.8/32");
}

TEST(Cidr, ExplainsWhatIsWrong) {
  auto why = [](const char* text) {
    auto parsed = parse_cidr(text);
    return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "(accepted)";
  };
  EXPECT_EQ(why("10.1.0.0/8"), "'10.1.0.0/8' has host bits set (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(why("10.0.0.0/-1"), "'10.0.0.0/-1' has no valid prefix length (0-32 after the '/')");
  EXPECT_EQ(why("10.0.0/8"), "'10.0.0/8' is not an IPv4 range (a.b.c.d/n)");
  EXPECT_EQ(why(""), "'' is not an IPv4 range (a.b.c.d/n)");
  EXPECT_EQ(why("/8"), "'/8' is not an IPv4 range (a.b.c.d/n)");
}

}  // namespace
}  // namespace sil::bridge
