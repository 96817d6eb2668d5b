"""Fixed data for the demo company: places in the Chicago area, trades, jobs and their words.

Towns carry a real centre point and ZIP code and a few of their real streets, so addresses read
like the metro area's; every point stays inside lat 41.64–42.15, lng −88.05 to −87.52.
"""

from __future__ import annotations

from dataclasses import dataclass

METRO_BOUNDS = {"lat": (41.64, 42.15), "lng": (-88.05, -87.52)}


@dataclass(frozen=True)
class Town:
    name: str
    zip_code: str
    lat: float
    lng: float
    streets: tuple[str, ...]
    # Chicago's grid numbers run into the thousands; suburbs rarely past 2000.
    max_number: int = 1999


CHICAGO_STREETS = {
    "Lincoln Park": ("N Clark St", "W Fullerton Ave", "N Halsted St", "W Armitage Ave",
                     "N Lincoln Ave", "W Webster Ave"),
    "Lakeview": ("N Broadway", "W Belmont Ave", "N Southport Ave", "W Addison St",
                 "N Sheffield Ave", "W Diversey Pkwy"),
    "Logan Square": ("N Milwaukee Ave", "W Fullerton Ave", "N Kedzie Ave", "W Diversey Ave",
                     "N Sacramento Ave", "N California Ave"),
    "Wicker Park": ("W Division St", "N Damen Ave", "N Milwaukee Ave", "W North Ave",
                    "N Hoyne Ave"),
    "West Loop": ("W Randolph St", "W Madison St", "W Lake St", "N Morgan St",
                  "W Washington Blvd"),
    "The Loop": ("S State St", "W Adams St", "S Wabash Ave", "W Monroe St", "S LaSalle St"),
    "Hyde Park": ("E 53rd St", "S Cornell Ave", "S Woodlawn Ave", "E 57th St",
                  "S Harper Ave"),
    "Bridgeport": ("S Halsted St", "W 31st St", "S Morgan St", "S Union Ave", "W 35th St"),
    "Pilsen": ("W 18th St", "S Ashland Ave", "S Blue Island Ave", "W Cermak Rd"),
    "Rogers Park": ("N Sheridan Rd", "W Morse Ave", "N Clark St", "W Touhy Ave",
                    "N Greenview Ave"),
    "Edgewater": ("N Broadway", "W Bryn Mawr Ave", "N Kenmore Ave", "W Foster Ave"),
    "Albany Park": ("W Lawrence Ave", "N Kedzie Ave", "W Montrose Ave", "N Kimball Ave"),
    "Portage Park": ("W Irving Park Rd", "N Cicero Ave", "N Central Ave", "W Addison St"),
    "Jefferson Park": ("N Milwaukee Ave", "W Lawrence Ave", "N Austin Ave", "W Higgins Ave"),
    "Beverly": ("S Western Ave", "W 103rd St", "S Longwood Dr", "W 95th St"),
    "Chatham": ("S Cottage Grove Ave", "E 79th St", "S King Dr", "E 83rd St"),
}

_CHICAGO = {
    "Lincoln Park": ("60614", 41.9214, -87.6513), "Lakeview": ("60657", 41.9434, -87.6553),
    "Logan Square": ("60647", 41.9236, -87.7076), "Wicker Park": ("60622", 41.9088, -87.6796),
    "West Loop": ("60607", 41.8827, -87.6474), "The Loop": ("60603", 41.8807, -87.6298),
    "Hyde Park": ("60615", 41.7943, -87.5907), "Bridgeport": ("60608", 41.8381, -87.6513),
    "Pilsen": ("60608", 41.8565, -87.6597), "Rogers Park": ("60626", 42.0106, -87.6696),
    "Edgewater": ("60660", 41.9839, -87.6607), "Albany Park": ("60625", 41.9683, -87.7195),
    "Portage Park": ("60634", 41.9587, -87.7655), "Jefferson Park": ("60630", 41.9702, -87.7617),
    "Beverly": ("60643", 41.7172, -87.6726), "Chatham": ("60619", 41.7417, -87.6122),
}

SUBURBS = (
    Town("Evanston", "60201", 42.0451, -87.6877,
         ("Chicago Ave", "Davis St", "Ridge Ave", "Central St", "Dempster St", "Sherman Ave")),
    Town("Skokie", "60076", 42.0324, -87.7416,
         ("Oakton St", "Main St", "Lincoln Ave", "Crawford Ave", "Gross Point Rd")),
    Town("Oak Park", "60302", 41.8850, -87.7845,
         ("Lake St", "Oak Park Ave", "Ridgeland Ave", "Euclid Ave", "Chicago Ave")),
    Town("Berwyn", "60402", 41.8506, -87.7937,
         ("Cermak Rd", "Oak Park Ave", "Ridgeland Ave", "Windsor Ave", "Harlem Ave")),
    Town("Cicero", "60804", 41.8456, -87.7539,
         ("Cermak Rd", "Cicero Ave", "W 25th St", "Laramie Ave")),
    Town("Park Ridge", "60068", 42.0111, -87.8406,
         ("Touhy Ave", "Prospect Ave", "Northwest Hwy", "Busse Hwy", "Cumberland Ave")),
    Town("Des Plaines", "60016", 42.0334, -87.8834,
         ("Lee St", "Miner St", "Oakton St", "Rand Rd", "Algonquin Rd")),
    Town("Elmhurst", "60126", 41.8995, -87.9403,
         ("York St", "Spring Rd", "St Charles Rd", "Addison Ave", "Cottage Hill Ave")),
    Town("Oak Brook", "60523", 41.8328, -87.9290,
         ("22nd St", "Spring Rd", "Meyers Rd", "Jorie Blvd", "Harger Rd")),
    Town("Downers Grove", "60515", 41.8089, -88.0112,
         ("Main St", "Ogden Ave", "Maple Ave", "Fairview Ave", "Warren Ave")),
    Town("Hinsdale", "60521", 41.8009, -87.9370,
         ("Garfield St", "Chicago Ave", "Washington St", "Ogden Ave")),
    Town("La Grange", "60525", 41.8050, -87.8692,
         ("La Grange Rd", "Burlington Ave", "Cossitt Ave", "Brainard Ave")),
    Town("Oak Lawn", "60453", 41.7109, -87.7581,
         ("W 95th St", "Cicero Ave", "Southwest Hwy", "W 103rd St", "Central Ave")),
    Town("Evergreen Park", "60805", 41.7206, -87.7017,
         ("W 95th St", "S Kedzie Ave", "W 87th St", "S Western Ave")),
    Town("Blue Island", "60406", 41.6573, -87.6800,
         ("Western Ave", "Vermont St", "Gregory St", "Grove St")),
    Town("Glenview", "60025", 42.0698, -87.7878,
         ("Waukegan Rd", "Glenview Rd", "Lake Ave", "Chestnut Ave", "Shermer Rd")),
    Town("Wilmette", "60091", 42.0723, -87.7223,
         ("Green Bay Rd", "Central Ave", "Wilmette Ave", "Lake Ave", "Ridge Rd")),
    Town("Northbrook", "60062", 42.1275, -87.8290,
         ("Shermer Rd", "Waukegan Rd", "Dundee Rd", "Walters Ave", "Cherry Ln")),
    Town("Niles", "60714", 42.0189, -87.8028,
         ("Milwaukee Ave", "Touhy Ave", "Oakton St", "Waukegan Rd")),
    Town("Morton Grove", "60053", 42.0406, -87.7826,
         ("Dempster St", "Lincoln Ave", "Ferris Ave", "Austin Ave")),
    Town("Franklin Park", "60131", 41.9353, -87.8656,
         ("Franklin Ave", "Mannheim Rd", "Grand Ave", "Rose St")),
    Town("River Forest", "60305", 41.8978, -87.8140,
         ("Lake St", "Thatcher Ave", "Park Ave", "Keystone Ave")),
    Town("Lombard", "60148", 41.8800, -88.0079,
         ("Main St", "St Charles Rd", "Roosevelt Rd", "Finley Rd", "Park Ave")),
    Town("Burbank", "60459", 41.7392, -87.7795,
         ("S Cicero Ave", "W 79th St", "S Central Ave", "S Austin Ave")),
)

TOWNS: tuple[Town, ...] = (
    *(Town(f"Chicago ({hood})", zip_code, lat, lng, CHICAGO_STREETS[hood], max_number=5999)
      for hood, (zip_code, lat, lng) in _CHICAGO.items()),
    *SUBURBS,
)


def city_name(town: Town) -> str:
    """The postal city: every Chicago neighbourhood is just "Chicago" on an envelope."""
    return "Chicago" if town.name.startswith("Chicago") else town.name


SKILLS = ("HVAC", "Plumbing", "Electrical", "Refrigeration", "Boilers", "Gas fitting",
          "Backflow certification")


@dataclass(frozen=True)
class JobKind:
    name: str
    skill: str
    kind: str  # WorkOrderKind value
    minutes: int
    heating: bool | None  # True: mostly in the heating season; False: in summer; None: all year
    titles: tuple[str, ...]
    summaries: tuple[str, ...]


JOB_TYPES = (
    JobKind("Boiler service", "Boilers", "contract", 120, True,
            ("Annual boiler service", "Boiler losing pressure", "Boiler short cycling",
             "Radiators cold on upper floor", "Boiler lockout, no heat", "Noisy boiler pump"),
            ("Cleaned the burner and heat exchanger, checked combustion (CO 18 ppm). "
             "Boiler running normally.",
             "Replaced the pressure relief valve and topped up the system to 15 psi.",
             "Bled the radiators and replaced the circulator pump. Heat restored.")),
    JobKind("Furnace repair", "HVAC", "reactive", 90, True,
            ("No heat – furnace not igniting", "Furnace blowing cold air",
             "Furnace making a banging noise", "Thermostat not calling for heat",
             "Furnace short cycling", "Pilot light keeps going out"),
            ("Replaced the hot surface igniter and tested three full cycles.",
             "Cleaned the flame sensor; furnace igniting reliably.",
             "Replaced the inducer motor. Heat restored, filter changed.")),
    JobKind("AC repair", "HVAC", "reactive", 90, False,
            ("AC not cooling", "Condenser fan not spinning", "AC blowing warm air upstairs",
             "Ice on the refrigerant line", "AC tripping the breaker"),
            ("Replaced the run capacitor and contactor; system cooling to 18°F split.",
             "Found a leak at the evaporator coil; recharged and quoted a coil replacement.",
             "Cleared the condensate drain and reset the float switch.")),
    JobKind("Leak repair", "Plumbing", "reactive", 60, None,
            ("Leak under kitchen sink", "Water stain on ceiling below bathroom",
             "Leaking water heater", "Burst pipe in basement", "Leaking toilet supply line",
             "Dripping shower valve"),
            ("Replaced the compression fitting under the sink; no more leak.",
             "Cut out and replaced 2 ft of corroded copper pipe; tested under pressure.",
             "Rebuilt the shower cartridge; water off and no drip.")),
    JobKind("Drain cleaning", "Plumbing", "reactive", 60, None,
            ("Kitchen drain backing up", "Floor drain slow in basement",
             "Main sewer line backup", "Toilet clogged, overflowing"),
            ("Snaked the main line 60 ft from the cleanout; flowing freely. Recommend a "
             "camera inspection.",
             "Cleared grease build-up in the kitchen line with the jetter.")),
    JobKind("Water heater replacement", "Plumbing", "quoted", 240, None,
            ("Replace 50 gal water heater", "Water heater replacement – tankless upgrade",
             "No hot water, tank leaking"),
            ("Installed a new 50 gal gas water heater, new expansion tank and flex lines; "
             "old tank hauled away.",
             "Installed the tankless unit and new venting; flushed and tested.")),
    JobKind("Installation", "HVAC", "quoted", 420, None,
            ("Install new high-efficiency furnace", "Install ductless mini-split",
             "Replace rooftop unit", "Install new condenser and coil"),
            ("Installation complete: unit started up, refrigerant charge verified, "
             "customer shown the thermostat.",
             "New equipment installed and commissioned; permit inspection booked.")),
    JobKind("Preventive maintenance", "HVAC", "contract", 60, None,
            ("Quarterly PM – rooftop units", "Seasonal tune-up", "Filter change and inspection",
             "PM visit – heating start-up"),
            ("PM complete: filters changed, belts checked, coils cleaned. No issues found.",
             "Tune-up done; noted a worn blower belt, replace at next visit.")),
    JobKind("Refrigeration repair", "Refrigeration", "reactive", 120, None,
            ("Walk-in cooler not holding temperature", "Ice machine not making ice",
             "Reach-in freezer alarm", "Walk-in freezer iced up"),
            ("Replaced the defrost timer and cleared the evaporator; box at 36°F.",
             "Replaced the condenser fan motor; walk-in recovered to temperature.")),
    JobKind("Electrical troubleshooting", "Electrical", "reactive", 60, None,
            ("Breaker keeps tripping", "No power to furnace", "Outlet sparking in kitchen"),
            ("Found a loose neutral in the panel; tightened and tested all circuits.",
             "Replaced the furnace service switch; power restored.")),
    JobKind("Backflow testing", "Backflow certification", "recurring", 45, None,
            ("Annual backflow test", "Backflow preventer test and report"),
            ("Backflow test passed; certificate filed with the city.",)),
)


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str
    colour: str = "#0d6efd"
    skills: tuple[str, ...] = ()
    home: str = ""  # a town name from TOWNS
    phone: str = ""


STAFF = (
    Person("Dana Whitfield", "owner@northwind.example", "owner", phone="(312) 555-0140"),
    Person("Maria Gonzalez", "office@northwind.example", "office", phone="(312) 555-0141"),
    Person("Kevin O'Brien", "dispatch@northwind.example", "office", phone="(312) 555-0142"),
    Person("Marcus Johnson", "tech@northwind.example", "technician", "#d63384",
           ("HVAC", "Boilers", "Gas fitting"), "Oak Park", "(312) 555-0150"),
    Person("Luis Ramirez", "luis@northwind.example", "technician", "#fd7e14",
           ("Plumbing", "Backflow certification", "Gas fitting"), "Cicero", "(312) 555-0151"),
    Person("Tomasz Nowak", "tomasz@northwind.example", "technician", "#198754",
           ("Boilers", "Plumbing"), "Chicago (Portage Park)", "(312) 555-0152"),
    Person("Aisha Carter", "aisha@northwind.example", "technician", "#6f42c1",
           ("HVAC", "Refrigeration"), "Chicago (Hyde Park)", "(312) 555-0153"),
    Person("Jake Sullivan", "jake@northwind.example", "technician", "#0dcaf0",
           ("Electrical", "HVAC"), "Park Ridge", "(312) 555-0154"),
    Person("Priya Patel", "priya@northwind.example", "technician", "#20c997",
           ("Refrigeration", "HVAC"), "Skokie", "(312) 555-0155"),
    Person("Derek Washington", "derek@northwind.example", "technician", "#dc3545",
           ("Plumbing", "Boilers", "Backflow certification"), "Oak Lawn", "(312) 555-0156"),
    Person("Sam Kowalski", "sam@northwind.example", "technician", "#ffc107",
           ("HVAC", "Plumbing", "Electrical"), "Downers Grove", "(312) 555-0157"),
)

ACCESS_NOTES = (
    "Gate code {code}#.",
    "Key in the lock box by the side door, code {code}.",
    "Friendly dog in the back yard; call the customer before going through the gate.",
    "Large dog on site, customer will put him in the garage. Call 15 minutes before arriving.",
    "Park in the alley behind the garage; the front is permit parking only.",
    "Check in with security at the front desk; a badge is needed for the mechanical room.",
    "Boiler room is in the basement; ask for the building engineer.",
    "Roof access by the ladder in stairwell B. Bring a harness.",
    "Loading dock entrance on the north side; deliveries before 10 am only.",
    "Tenant works nights: no visits before 11 am.",
    "Basement door sticks, push hard. Water shut-off is behind the furnace.",
    "Lockbox on the electric meter, code {code}. Cat indoors, keep doors closed.",
)

COMMERCIAL_SITE_NAMES = ("Main office", "Warehouse", "Store", "Kitchen", "Plant",
                         "North building", "Clinic", "Branch office", "Distribution center")

COMMERCIAL_SUFFIXES = ("Restaurant", "Bakery", "Dental", "Properties", "Apartments", "Market",
                       "Brewing Co.", "Medical Center", "Fitness", "Self Storage", "Hotel",
                       "Auto Repair", "Condominium Association", "Church", "Daycare")

CONTACT_ROLES_COMMERCIAL = ("Facilities manager", "Property manager", "Building engineer",
                            "Store manager", "Accounts payable", "Owner")
CONTACT_ROLES_RESIDENTIAL = ("Owner", "Tenant", "Spouse")

# (name, manufacturers and models, for homes?, for businesses?)
EQUIPMENT = (
    ("Furnace", (("Carrier", "59SC5"), ("Lennox", "SL280"), ("Trane", "XR80")), True, False),
    ("AC condenser", (("Carrier", "24ACC6"), ("Goodman", "GSX14"), ("Rheem", "RA14")),
     True, False),
    ("Water heater", (("A.O. Smith", "GCR-50"), ("Bradford White", "RG250"),
                      ("Rheem", "XG50T")), True, True),
    ("Boiler", (("Weil-McLain", "CGa-4"), ("Burnham", "ESC4"), ("Navien", "NCB-240E"),
                ("Lochinvar", "Knight WHN")), True, True),
    ("Sump pump", (("Zoeller", "M53"), ("Liberty", "257")), True, False),
    ("Rooftop unit", (("Trane", "Voyager"), ("Carrier", "48TC"), ("Lennox", "Energence")),
     False, True),
    ("Walk-in cooler", (("Heatcraft", "PRO3"), ("Copeland", "ZX"),), False, True),
    ("Ice machine", (("Hoshizaki", "KM-515"), ("Manitowoc", "IYT0500")), False, True),
    ("Backflow preventer", (("Watts", "909"), ("Zurn Wilkins", "375")), False, True),
    ("Mini-split", (("Mitsubishi", "MSZ-GL12"), ("Daikin", "FTX12")), True, True),
)

INTERNAL_NOTES = (
    "Customer called to confirm; prefers a morning arrival.",
    "Ordered the replacement part from Ferguson, ETA two days.",
    "Left a voicemail for the customer to confirm access.",
    "Quoted the customer by phone; they approved.",
    "Unit is out of warranty; bill parts at list.",
    "Bring a ladder and the refrigerant recovery machine.",
    "Second call about this in a month; check whether it is the same fault.",
    "Customer has a service agreement: no trip charge.",
    "Tenant will let us in; owner approves repairs up to $500.",
)

TECHNICIAN_NOTES = (
    "Filter was completely blocked; replaced it.",
    "Customer showed me a second drip in the laundry room; checked it, only a loose nut.",
    "Took photos of the nameplate for the quote.",
    "Flue pipe corroded at the elbow; recommend replacing it before winter is out.",
    "Checked the thermostat wiring: all good.",
    "Gas pressure within spec; no leaks at the valve train.",
)

CUSTOMER_NOTES = (
    "Thanks for your call! We have booked a technician for you.",
    "Your technician is on the way.",
    "We are waiting on a part and will call you to book the return visit.",
    "The work is done. Thank you for choosing Northwind Heating & Plumbing.",
)

HOLD_REASONS = ("Waiting for parts", "Waiting for the customer to approve the quote",
                "Customer asked to postpone", "Waiting for the permit")
CANCEL_REASONS = ("Customer cancelled: fixed it themselves",
                  "Duplicate of another work order", "Customer chose another contractor",
                  "Customer cancelled: moved the appointment to next season")
INCOMPLETE_REASONS = ("Needs a part we did not have on the van",
                      "No access: nobody home", "Needs a second technician")
