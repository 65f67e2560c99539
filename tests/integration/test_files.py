#!/usr/bin/env python3
"""The files xtalk creates are private (issue 12, item 8): the store and
its -wal/-shm are 0600 whatever the directory's mode, an older 0644 store
is made private, and a directory everyone may write is refused with the
reason and the way out."""

import os
import stat

from xtlib import ServerTest, jid, main


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class Files(ServerTest):

    def send(self, *extra, env=None):
        return self.xtalk("alice", "send", *extra, jid("bob", self.srv), "private words", env=env)

    def assertPrivate(self, db):
        self.assertEqual(mode(db), 0o600, db)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                self.assertEqual(mode(db + suffix), 0o600, db + suffix)

    def test_existing_0755_data_dir(self):
        data = os.path.join(self.srv.dir, "data-0755")
        os.makedirs(os.path.join(data, "xtalk"), mode=0o755)
        os.chmod(os.path.join(data, "xtalk"), 0o755)
        self.assertOk(self.send(env={"XDG_DATA_HOME": data}))
        db = os.path.join(data, "xtalk", "xtalk.db")
        self.assertPrivate(db)
        self.assertEqual(mode(os.path.dirname(db)), 0o700)

        # A store left 0644 by an older xtalk is made private on the next run.
        os.chmod(db, 0o644)
        self.assertOk(self.send(env={"XDG_DATA_HOME": data}))
        self.assertPrivate(db)

    def test_store_option_in_0755_dir(self):
        d = os.path.join(self.srv.dir, "shared-0755")
        os.makedirs(d, mode=0o755)
        os.chmod(d, 0o755)
        db = os.path.join(d, "mine.db")
        self.assertOk(self.send("--store", db))
        self.assertPrivate(db)
        self.assertEqual(mode(d), 0o755)  # the user's own directory is left alone

    def test_world_writable_dir_refused(self):
        d = os.path.join(self.srv.dir, "open-0777")
        os.makedirs(d)
        os.chmod(d, 0o777)
        r = self.send("--store", os.path.join(d, "x.db"))
        self.assertEqual(r.returncode, 3, r.stderr)  # configuration problem
        self.assertIn("writable by every user", r.stderr)
        self.assertIn("--no-store", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "x.db")))


if __name__ == "__main__":
    main()
