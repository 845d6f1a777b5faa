"""The run's result file, read once per section by the report code in run.sh.

Each line is `section<TAB>case<TAB>server<TAB>result line`, the result line being a command's last line
(`result key=value ...`). `Results(path, section)` keeps one section: each (case, server) pair's runs as dicts, the
order they first appeared in, and medians.
"""
import collections
import statistics


class Results:
    def __init__(self, path, section):
        self.rows = collections.defaultdict(list)
        self.order = []
        for line in open(path):
            name_of_section, case, name, result = line.rstrip("\n").split("\t")
            if name_of_section != section:
                continue
            fields = dict(kv.split("=") for kv in result.split()[1:])
            if (case, name) not in self.rows:
                self.order.append((case, name))
            self.rows[(case, name)].append(fields)

    def med(self, name, case, key):
        """The median of `key` over the runs of `name` in `case` (nan when none has it)."""
        values = [float(r[key]) for r in self.rows[(case, name)] if r.get(key, "nan") != "nan"]
        return statistics.median(values) if values else float("nan")

    @property
    def cases(self):
        """Cases in the order they were run."""
        seen = []
        for case, _ in self.order:
            if case not in seen:
                seen.append(case)
        return seen

    def names(self, case):
        return [n for c, n in self.order if c == case]
