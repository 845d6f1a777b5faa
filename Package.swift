// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "netconsole",
    products: [
        .executable(name: "netconsole", targets: ["netconsole"]),
        .library(name: "NetEngine", targets: ["NetEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
    ],
    targets: [
        // No pkgConfig: `pkg-config --cflags ncursesw` adds -D flags SwiftPM rejects with a warning on every build;
        // the shim defines what it needs and the module map links ncursesw (Debian's libncurses-dev).
        .systemLibrary(name: "CNCurses"),
        .systemLibrary(name: "CLinux"),
        // The system's OpenSSL (libssl-dev) for TLS: a vetted protocol implementation, not a home-made one.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Hashing a file through a mapping without dying of SIGBUS when the file shrinks meanwhile (a signal handler,
        // so C).
        .target(name: "CMappedRead"),
        .target(
            name: "NetEngine",
            dependencies: ["CLinux", "COpenSSL", "CMappedRead", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The load generator behind `netconsole bench`: a tool, not part of the exported engine library.
        .target(
            name: "NetBench",
            dependencies: ["NetEngine", "CLinux"]
        ),
        // Text for screens and logs made from the engine's events (no I/O): the engine itself formats none.
        .target(
            name: "NetText",
            dependencies: ["NetEngine"]
        ),
        .target(
            name: "NetConsoleUI",
            dependencies: ["NetEngine", "NetText", "CNCurses"]
        ),
        .target(
            name: "Lab",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "netconsole",
            dependencies: [
                "NetEngine",
                "NetConsoleUI",
                "NetText",
                "NetBench",
                "Lab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "NetEngineTests", dependencies: ["NetEngine", "NetText"]),
        .testTarget(name: "NetBenchTests", dependencies: ["NetBench", "NetEngine"]),
        .testTarget(name: "NetConsoleUITests", dependencies: ["NetConsoleUI"]),
        .testTarget(name: "EndToEndTests", dependencies: ["NetEngine"]),
    ],
    swiftLanguageModes: [.v6]
)
