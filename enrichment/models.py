from __future__ import annotations

from django.db import models

from enrichment.pricing import TokenQuote


class TokenMetadata(models.Model):
    """What DexScreener said about a token when last asked: metadata and the price from its most liquid
    base-side pair, or `unknown` when it has no such pair. Rows younger than TOKEN_METADATA_FRESHNESS_S
    answer instead of the upstream."""

    class Status(models.TextChoices):
        KNOWN = "known", "Known"
        UNKNOWN = "unknown", "Unknown to DexScreener"

    mint = models.CharField(max_length=44, primary_key=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    symbol = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    image_url = models.TextField(blank=True, default="")
    price_usd = models.FloatField(null=True, blank=True)
    price_native = models.FloatField(null=True, blank=True, help_text="In the pair's quote token")
    quote_mint = models.CharField(max_length=44, blank=True, default="")
    liquidity_usd = models.FloatField(null=True, blank=True)
    market_cap_usd = models.FloatField(null=True, blank=True)
    fdv_usd = models.FloatField(null=True, blank=True)
    pair_address = models.CharField(max_length=64, blank=True, default="")
    dex_id = models.CharField(max_length=64, blank=True, default="")
    fetched_at = models.DateTimeField(help_text="When DexScreener was last asked about this token")
    # Bumped (at most hourly) when a job asks for the token; the periodic refresh keeps only these warm.
    last_requested_at = models.DateTimeField()

    class Meta:
        verbose_name = "token metadata"
        verbose_name_plural = "token metadata"
        indexes = [
            models.Index(fields=["fetched_at"]),
            models.Index(fields=["status", "last_requested_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.symbol or '?'} ({self.mint})"

    def to_quote(self) -> TokenQuote:
        return TokenQuote(
            mint=self.mint,
            symbol=self.symbol,
            name=self.name,
            image_url=self.image_url or None,
            price_usd=self.price_usd,
            price_native=self.price_native,
            quote_mint=self.quote_mint,
            liquidity_usd=self.liquidity_usd or 0.0,
            market_cap_usd=self.market_cap_usd,
            fdv_usd=self.fdv_usd,
            pair_address=self.pair_address,
            dex_id=self.dex_id,
        )


class SolUsdCandle(models.Model):
    """One minute of SOL/USD from the history provider (Pyth Benchmarks). Past minutes never change, so a
    stored minute is never fetched again."""

    minute = models.BigIntegerField(primary_key=True, help_text="Start of the UTC minute, unix seconds")
    open = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    close = models.FloatField(help_text="USD per SOL at the minute's end: the minute's price")
    fetched_at = models.DateTimeField()

    class Meta:
        verbose_name = "SOL/USD candle"

    def __str__(self) -> str:
        return f"SOL/USD {self.minute}: {self.close}"


class SolUsdHistoryRange(models.Model):
    """A range of minutes the provider answered in full: a minute inside it without a candle had none, so
    it is not asked for again."""

    start_minute = models.BigIntegerField()
    end_minute = models.BigIntegerField()
    fetched_at = models.DateTimeField()

    class Meta:
        verbose_name = "SOL/USD history range"
        indexes = [models.Index(fields=["start_minute", "end_minute"])]

    def __str__(self) -> str:
        return f"SOL/USD {self.start_minute}..{self.end_minute}"
