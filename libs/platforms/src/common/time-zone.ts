/**
 * The customer's IANA time zone from a postal address (see docs/rfc/0010-customer-time-zone.md).
 * Data from two libraries, no hand table: `city-timezones` (≈7,300 cities with country, province /
 * US state code, coordinates, population and zone) and `countries-and-timezones` (each country's
 * zones with their offsets). In order:
 *
 * 1. coordinates (when the platform sends them): the zone of the nearest listed city of the country;
 * 2. the city by name (within the region when one is given);
 * 3. the region (US state code, or province name): the zone of its most populous listed city;
 * 4. the country alone, when all of its zones keep the same offsets (e.g. DE, FR, GB);
 * 5. otherwise unknown (a multi-zone country without a usable region): the shop's zone is used.
 *
 * Only the resulting zone is kept (on the cart / customer event), never the address itself.
 */
import cityTimezones from 'city-timezones';
import { getAllCountries, getCountry, getTimezone } from 'countries-and-timezones';

export interface AddressPlace {
  /** ISO 3166-1 alpha-2 (`US`), or the country's English name. */
  readonly country?: string;
  /** State / province code (`KY`, `ON`) or name (`Kentucky`). */
  readonly region?: string;
  readonly regionName?: string;
  readonly city?: string;
  readonly latitude?: number;
  readonly longitude?: number;
}

type City = (typeof cityTimezones.cityMapping)[number];

let byCountry: Map<string, City[]> | undefined;
let countryByName: Map<string, string> | undefined;

const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase();

function citiesOf(iso2: string): readonly City[] {
  if (byCountry === undefined) {
    byCountry = new Map();
    for (const c of cityTimezones.cityMapping) {
      if (typeof c.iso2 !== 'string' || typeof c.timezone !== 'string') continue;
      const list = byCountry.get(c.iso2.toUpperCase()) ?? [];
      list.push(c);
      byCountry.set(c.iso2.toUpperCase(), list);
    }
    // Most populous first: a region's or a country's zone is its largest city's.
    for (const list of byCountry.values()) list.sort((a, b) => (b.pop ?? 0) - (a.pop ?? 0));
  }
  return byCountry.get(iso2) ?? [];
}

function countryCode(country: string | undefined): string | undefined {
  if (country === undefined || country.trim() === '') return undefined;
  const t = country.trim();
  if (/^[A-Za-z]{2}$/.test(t)) return getCountry(t.toUpperCase()) !== null ? t.toUpperCase() : undefined;
  if (countryByName === undefined) {
    countryByName = new Map(Object.values(getAllCountries()).map((c) => [fold(c.name), c.id]));
    for (const c of cityTimezones.cityMapping) {
      if (typeof c.country === 'string' && typeof c.iso2 === 'string') countryByName.set(fold(c.country), c.iso2);
    }
    // The short forms platforms print for the two names the data spell out in full.
    countryByName.set('united states', 'US');
    countryByName.set('usa', 'US');
    countryByName.set('uk', 'GB');
  }
  return countryByName.get(fold(t));
}

function isZone(zone: string | undefined): zone is string {
  if (zone === undefined || zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function inRegion(c: City, region: string | undefined, regionName: string | undefined): boolean {
  const names = [region, regionName].filter((r): r is string => r !== undefined && r.trim() !== '').map(fold);
  if (names.length === 0) return false;
  const own = [c.state_ansi, c.province, c.exactProvince].filter((r) => typeof r === 'string' && r !== '').map(fold);
  return names.some((n) => own.includes(n));
}

function nearest(cities: readonly City[], lat: number, lng: number): City | undefined {
  const rad = Math.PI / 180;
  let best: City | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of cities) {
    const dLat = (c.lat - lat) * rad;
    const dLng = (c.lng - lng) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat * rad) * Math.cos(c.lat * rad) * Math.sin(dLng / 2) ** 2;
    if (h < bestD) {
      bestD = h;
      best = c;
    }
  }
  return best;
}

/** True when every zone of the country keeps the same standard and summer offsets. */
function singleOffsetCountry(iso2: string): boolean {
  const zones = getCountry(iso2)?.timezones ?? [];
  const offsets = new Set(
    zones.map((z) => getTimezone(z)).flatMap((z) => (z === null ? [] : [`${z.utcOffset}/${z.dstOffset}`])),
  );
  return offsets.size === 1;
}

/** The IANA zone of an address, or undefined when it cannot be told (the shop's zone applies then). */
export function timeZoneOfAddress(place: AddressPlace | undefined): string | undefined {
  if (place === undefined) return undefined;
  const iso2 = countryCode(place.country);
  if (iso2 === undefined) return undefined;
  const cities = citiesOf(iso2);
  const { latitude: lat, longitude: lng } = place;
  if (
    lat !== undefined &&
    lng !== undefined &&
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    (lat !== 0 || lng !== 0)
  ) {
    const near = nearest(cities, lat, lng);
    if (isZone(near?.timezone)) return near.timezone;
  }
  const region = cities.filter((c) => inRegion(c, place.region, place.regionName));
  if (place.city !== undefined && place.city.trim() !== '') {
    const name = fold(place.city);
    const pool = region.length > 0 ? region : cities;
    const city = pool.find((c) =>
      [c.city, c.city_ascii, c.exactCity].some((n) => typeof n === 'string' && fold(n) === name),
    );
    if (isZone(city?.timezone)) return city.timezone;
  }
  if (isZone(region[0]?.timezone)) return region[0].timezone;
  if (singleOffsetCountry(iso2)) {
    const zone = cities[0]?.timezone ?? getCountry(iso2)?.timezones[0];
    if (isZone(zone)) return zone;
  }
  return undefined;
}
