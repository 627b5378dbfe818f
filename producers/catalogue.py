"""Static reference tables of the simulated world: provinces, cities, models.

These are Orion Motors' own facts, not random data, so they are tables
rather than Faker calls. Weights are relative.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CITIES",
    "COLOURS",
    "MODELS",
    "PLANTS",
    "PROVINCES",
    "PROVINCE_CODES",
    "City",
    "Model",
]

# Province symbol -> weight (population and car sales).
PROVINCES: dict[str, int] = {
    "GAUTENG": 26,
    "KWAZULU_NATAL": 19,
    "WESTERN_CAPE": 12,
    "EASTERN_CAPE": 11,
    "LIMPOPO": 10,
    "MPUMALANGA": 8,
    "NORTH_WEST": 7,
    "FREE_STATE": 5,
    "NORTHERN_CAPE": 2,
}
PROVINCE_CODES = {
    "GAUTENG": "GP",
    "KWAZULU_NATAL": "KZN",
    "WESTERN_CAPE": "WC",
    "EASTERN_CAPE": "EC",
    "LIMPOPO": "LP",
    "MPUMALANGA": "MP",
    "NORTH_WEST": "NW",
    "FREE_STATE": "FS",
    "NORTHERN_CAPE": "NC",
}


@dataclass(frozen=True, slots=True)
class City:
    """A city with its province, postal code and coordinates."""

    name: str
    province: str
    postal_code: str
    lat: float
    lon: float


CITIES: tuple[City, ...] = (
    City("Johannesburg", "GAUTENG", "2001", -26.204, 28.047),
    City("Pretoria", "GAUTENG", "0002", -25.747, 28.188),
    City("Sandton", "GAUTENG", "2196", -26.107, 28.057),
    City("Soweto", "GAUTENG", "1804", -26.267, 27.858),
    City("Centurion", "GAUTENG", "0157", -25.860, 28.189),
    City("Durban", "KWAZULU_NATAL", "4001", -29.858, 31.029),
    City("Pietermaritzburg", "KWAZULU_NATAL", "3201", -29.601, 30.379),
    City("Richards Bay", "KWAZULU_NATAL", "3900", -28.783, 32.038),
    City("Newcastle", "KWAZULU_NATAL", "2940", -27.758, 29.931),
    City("Cape Town", "WESTERN_CAPE", "8001", -33.925, 18.424),
    City("Stellenbosch", "WESTERN_CAPE", "7600", -33.932, 18.860),
    City("George", "WESTERN_CAPE", "6530", -33.963, 22.462),
    City("Paarl", "WESTERN_CAPE", "7646", -33.734, 18.962),
    City("Gqeberha", "EASTERN_CAPE", "6001", -33.961, 25.602),
    City("East London", "EASTERN_CAPE", "5201", -33.015, 27.912),
    City("Mthatha", "EASTERN_CAPE", "5100", -31.589, 28.784),
    City("Makhanda", "EASTERN_CAPE", "6139", -33.310, 26.526),
    City("Polokwane", "LIMPOPO", "0700", -23.904, 29.469),
    City("Tzaneen", "LIMPOPO", "0850", -23.833, 30.163),
    City("Thohoyandou", "LIMPOPO", "0950", -22.946, 30.484),
    City("Mbombela", "MPUMALANGA", "1200", -25.475, 30.970),
    City("eMalahleni", "MPUMALANGA", "1035", -25.871, 29.233),
    City("Secunda", "MPUMALANGA", "2302", -26.516, 29.170),
    City("Mahikeng", "NORTH_WEST", "2745", -25.865, 25.644),
    City("Rustenburg", "NORTH_WEST", "0300", -25.667, 27.242),
    City("Potchefstroom", "NORTH_WEST", "2531", -26.716, 27.103),
    City("Bloemfontein", "FREE_STATE", "9301", -29.116, 26.214),
    City("Welkom", "FREE_STATE", "9459", -27.977, 26.735),
    City("Bethlehem", "FREE_STATE", "9701", -28.230, 28.307),
    City("Kimberley", "NORTHERN_CAPE", "8301", -28.738, 24.763),
    City("Upington", "NORTHERN_CAPE", "8801", -28.447, 21.256),
    City("Springbok", "NORTHERN_CAPE", "8240", -29.664, 17.886),
)


@dataclass(frozen=True, slots=True)
class Model:
    """A catalogue model: what a dealer stocks and a VIN encodes."""

    code: str
    make: str
    name: str
    body_type: str
    base_price_cents: int
    engines: tuple[str, ...]
    vds: str
    popularity: int
    plant: str


MODELS: tuple[Model, ...] = (
    Model(
        "ORN-STRATA", "Orion", "Strata", "SEDAN", 38_990_000, ("PETROL", "HYBRID"), "STR1A", 8, "R"
    ),
    Model("ORN-VELA", "Orion", "Vela", "HATCHBACK", 28_990_000, ("PETROL",), "VEL1A", 12, "R"),
    Model(
        "ORN-NOVA",
        "Orion",
        "Nova",
        "SUV",
        52_990_000,
        ("PETROL", "DIESEL", "HYBRID"),
        "NVA1A",
        10,
        "G",
    ),
    Model("ORN-ATLAS", "Orion", "Atlas", "BAKKIE", 45_990_000, ("DIESEL",), "ATL1A", 14, "G"),
    Model("KRO-RANGER", "Karoo", "Ranger", "SUV", 68_990_000, ("DIESEL",), "RNG2B", 6, "G"),
    Model("KRO-HAULER", "Karoo", "Hauler", "BAKKIE", 54_990_000, ("DIESEL",), "HAU2B", 9, "G"),
    Model("KRO-TREK", "Karoo", "Trek", "SUV", 79_990_000, ("DIESEL", "PETROL"), "TRK2B", 4, "D"),
    Model("KES-GT", "Kestrel", "GT", "COUPE", 124_990_000, ("PETROL",), "KGT3C", 1, "D"),
    Model("KES-SWIFT", "Kestrel", "Swift", "HATCHBACK", 41_990_000, ("PETROL",), "KSW3C", 4, "D"),
    Model("PRO-E1", "Protea", "E1", "HATCHBACK", 55_990_000, ("ELECTRIC",), "PE14D", 3, "R"),
    Model(
        "PRO-CARGO", "Protea", "Cargo", "VAN", 61_990_000, ("DIESEL", "ELECTRIC"), "PCG4D", 3, "R"
    ),
    Model("PRO-SHUTTLE", "Protea", "Shuttle", "VAN", 69_990_000, ("DIESEL",), "PSH4D", 2, "R"),
)

# VIN plant code -> plant name.
PLANTS = {"R": "Rosslyn", "G": "Gqeberha", "D": "Durban"}

COLOURS = (
    "White",
    "Silver",
    "Black",
    "Grey",
    "Blue",
    "Red",
    "Bronze",
    "Green",
    "Sand",
    "Orange",
)
