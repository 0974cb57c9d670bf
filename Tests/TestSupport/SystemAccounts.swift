import Foundation

/// Real Unix groups and users for tests of the production permission path (the package's
/// postinst creates the same kind with the same tools). Created once per machine, kept:
/// creating them again is a no-op.
public enum SystemAccounts {
    /// The gid of system group `name`, created when missing.
    public static func group(_ name: String) throws -> gid_t {
        if let entry = getgrnam(name) { return entry.pointee.gr_gid }
        let run = try Programs.system("/usr/sbin/groupadd", ["--system", name])
        guard run.status == 0 || run.status == 9, let entry = getgrnam(name) else {
            throw TestError("groupadd \(name): \(run.stderr)")
        }
        return entry.pointee.gr_gid
    }

    /// System user `name` with its own primary group and the supplementary `groups`,
    /// created when missing; membership is set to exactly `groups`.
    public static func user(_ name: String, groups: [String] = []) throws -> (uid: uid_t, gid: gid_t) {
        for group in groups { _ = try Self.group(group) }
        if getpwnam(name) == nil {
            let run = try Programs.system("/usr/sbin/useradd", ["--system", "--user-group", "--no-create-home",
                                                                "--shell", "/usr/sbin/nologin", name])
            guard run.status == 0 || run.status == 9 else { throw TestError("useradd \(name): \(run.stderr)") }
        }
        let run = try Programs.system("/usr/sbin/usermod", ["-G", groups.joined(separator: ","), name])
        guard run.status == 0, let entry = getpwnam(name) else { throw TestError("usermod \(name): \(run.stderr)") }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }
}
