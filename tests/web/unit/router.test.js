// The router's table and rules (router.js), as main.js uses them.
import { access, findRoute, landingAfterSignIn, parseHash, routes } from '../../../web/js/router.js';
import { equal, same } from './assert.js';

const route = (path) => {
  const found = findRoute(path);
  return found && { title: found.options.title, params: found.params };
};

export const tests = {
  'an empty hash is the root, and a query is the route\'s own'() {
    equal(parseHash('').path, '/');
    equal(parseHash('#').path, '/');
    const { path, query } = parseHash('#/listings/7b2?start=2030-01-10T10:00:00Z&from=email');
    equal(path, '/listings/7b2');
    equal(query.get('start'), '2030-01-10T10:00:00Z');
    equal(query.get('from'), 'email');
  },
  'a route gives its screen the parts of the path its pattern captures'() {
    same(route('/listings/7b2-c'), { title: 'Listing', params: ['7b2-c'] });
    same(route('/listings/7b2-c/team'), { title: 'Team', params: ['7b2-c'] });
    same(route('/programmes/p1/report'), { title: 'Dashboard', params: ['p1'] });
    same(route('/programmes/p1/matching'), { title: 'Matching', params: ['p1'] });
    same(route('/admin/users'), { title: 'Admin', params: ['users'] });
    equal(findRoute('/admin').params[0], undefined, 'the console opens its first screen');
  },
  'a path no route matches whole has no screen'() {
    equal(findRoute('/nowhere'), null);
    equal(findRoute('/listings/7/extra'), null);
    equal(findRoute('/listings/a b'), null);
    equal(findRoute('/listings/'), null);
    equal(findRoute('/bookings/'), null);
  },
  'every route has a screen and a title'() {
    for (const [pattern, screen, options] of routes) {
      equal(typeof screen, 'function', String(pattern));
      equal(typeof options.title, 'string', String(pattern));
    }
  },
  'a visitor is sent to sign in first, and from the root to the public directory'() {
    equal(access(findRoute('/bookings').options, '/bookings', false), 'sign-in');
    equal(access(findRoute('/').options, '/', false), 'directory');
    equal(access(findRoute('/signin').options, '/signin', false), 'show');
  },
  'someone signed in is sent home from the pages for visitors only'() {
    equal(access(findRoute('/signin').options, '/signin', true), 'home');
    equal(access(findRoute('/signup').options, '/signup', true), 'home');
    equal(access(findRoute('/bookings').options, '/bookings', true), 'show');
  },
  'the links mailed open whether or not their reader is signed in'() {
    for (const path of ['/booking-link', '/reset-password', '/verify-email', '/programme-invitation', '/sign-on/done']) {
      equal(access(findRoute(path).options, path, true), 'show', `${path} signed in`);
      equal(access(findRoute(path).options, path, false), 'show', `${path} signed out`);
    }
  },
  'signing in lands where the reader was sent away from, never on a sign-in page'() {
    equal(landingAfterSignIn('/listings/7?start=2030-01-10T10:00:00Z'), '/listings/7?start=2030-01-10T10:00:00Z');
    equal(landingAfterSignIn(null), '/');
    equal(landingAfterSignIn('/signin'), '/');
    equal(landingAfterSignIn('/signup'), '/');
  },
};
