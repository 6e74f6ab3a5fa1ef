/**
 * A runner whose clock is off: imported first (NODE_OPTIONS=--import=…) into a `pgbackup run`
 * process, it shifts `Date.now()` and `new Date()` by PGBACKUP_TEST_CLOCK_SKEW_MS, as a node
 * whose clock drifted would read them. PostgreSQL, MinIO and the other runners keep the real
 * time. Plain JavaScript: it loads before tsx can compile anything.
 */
const skewMs = Number(process.env.PGBACKUP_TEST_CLOCK_SKEW_MS ?? '0');
const RealDate = globalThis.Date;
const realNow = RealDate.now.bind(RealDate);

class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(realNow() + skewMs);
    else super(...args);
  }

  static now() {
    return realNow() + skewMs;
  }
}

globalThis.Date = SkewedDate;
