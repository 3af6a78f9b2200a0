#include "app/cli.hpp"

int main(int argc, char** argv) { return crisisd::app::main(argc, argv); }
