#include <gtest/gtest.h>

TEST(KernelMode, Placeholder) {}
